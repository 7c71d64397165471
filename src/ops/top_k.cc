// TopK: the k largest (largest=1, default) or smallest elements along `axis` (default -1) and
// their int64 indices. k is an attribute at opset 1-9 and a 1-element int64 input 1 from 10
// (the upgrade rule moves it); largest and sorted arrive at 11 with defaults that keep the old
// meaning. The output is always sorted (sorted=0 leaves the order unspecified); equal values
// keep the lower index first, as ONNX specifies. NaN counts as larger than every number.
// Float only.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "ir/graph_edit.h"
#include "ops/op_upgrade.h"
#include "ops/op_util.h"

namespace dopt {
namespace {

StatusOr<int64_t> KFromValue(const Node& node, const Tensor& k) {
  if (k.numel() != 1) return InvalidArgument(node.Describe() + ": K must have one element, has " + std::to_string(k.numel()));
  const int64_t v = k.ToInt64Vector()[0];
  if (v < 0) return InvalidArgument(node.Describe() + ": K = " + std::to_string(v) + " is negative");
  return v;
}

StatusOr<int64_t> KFromAttr(const Node& node) {
  if (!node.HasAttr("k")) return InvalidArgument(node.Describe() + ": no K input and no 'k' attribute");
  DOPT_ASSIGN_OR_RETURN(int64_t v, node.GetInt("k", 0));
  if (v < 0) return InvalidArgument(node.Describe() + ": k = " + std::to_string(v) + " is negative");
  return v;
}

Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  const ValueInfo& x = ctx.input(0);
  DOPT_ASSIGN_OR_RETURN(int64_t axis, node.GetInt("axis", -1));
  DOPT_RETURN_IF_ERROR(node.GetInt("largest", 1).status());
  DOPT_RETURN_IF_ERROR(node.GetInt("sorted", 1).status());
  int64_t k = -1;
  if (ctx.has_input(1)) {
    DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kInt64}));
    if (ctx.input(1).value) {
      DOPT_ASSIGN_OR_RETURN(k, KFromValue(node, *ctx.input(1).value));
    }
  } else {
    DOPT_ASSIGN_OR_RETURN(k, KFromAttr(node));
  }
  if (!x.rank_known) {
    ctx.SetOutputUnknownRank(0, x.dtype);
    ctx.SetOutputUnknownRank(1, DType::kInt64);
    return Status::Ok();
  }
  DOPT_ASSIGN_OR_RETURN(int a, NormalizeAxis(node, axis, (int)x.shape.size()));
  if (k >= 0 && x.shape[a] >= 0 && k > x.shape[a]) {
    return InvalidArgument(node.Describe() + ": K = " + std::to_string(k) + " is larger than axis " +
                           std::to_string(axis) + " (" + std::to_string(x.shape[a]) + ")");
  }
  Shape out = x.shape;
  out[a] = k;
  ctx.SetOutput(0, x.dtype, out);
  if (ctx.num_outputs() > 1) ctx.SetOutput(1, DType::kInt64, out);
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::kFloat32) {
    return InvalidArgument(node.Describe() + ": expected float input, got " + DTypeName(x.dtype()));
  }
  DOPT_ASSIGN_OR_RETURN(int64_t axis, node.GetInt("axis", -1));
  DOPT_ASSIGN_OR_RETURN(int64_t largest, node.GetInt("largest", 1));
  int64_t k;
  if (ctx.has_input(1)) {
    DOPT_ASSIGN_OR_RETURN(k, KFromValue(node, ctx.input(1)));
  } else {
    DOPT_ASSIGN_OR_RETURN(k, KFromAttr(node));
  }
  const int rank = x.rank();
  DOPT_ASSIGN_OR_RETURN(int a, NormalizeAxis(node, axis, rank));
  const int64_t n = x.dim(a);
  if (k > n) {
    return InvalidArgument(node.Describe() + ": K = " + std::to_string(k) + " is larger than axis " +
                           std::to_string(axis) + " (" + std::to_string(n) + ")");
  }
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < rank; ++d) {
    if (d < a) outer *= x.dim(d);
    if (d > a) inner *= x.dim(d);
  }
  Shape out = x.shape();
  out[a] = k;
  Tensor& vals = ctx.OutputUninitialized(0, DType::kFloat32, out);
  Tensor* idx = ctx.num_outputs() > 1 ? &ctx.OutputUninitialized(1, DType::kInt64, out) : nullptr;
  const float* xp = x.data<float>();
  float* vp = vals.data<float>();
  int64_t* ip = idx ? idx->data<int64_t>() : nullptr;
  auto body = [&](int64_t b, int64_t e) {
    std::vector<int64_t> order(n);
    for (int64_t o = b; o < e; ++o) {
      const int64_t base = (o / inner) * n * inner + o % inner;
      const float* p = xp + base;
      // A strict weak order: NaN above every number, ties broken by the lower index.
      auto before = [&](int64_t i, int64_t j) {
        const float u = p[i * inner], v = p[j * inner];
        const bool un = std::isnan(u), vn = std::isnan(v);
        if (un || vn) {
          if (un != vn) return largest ? un : vn;
          return i < j;
        }
        if (u != v) return largest ? u > v : u < v;
        return i < j;
      };
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
      const int64_t ob = (o / inner) * k * inner + o % inner;
      for (int64_t r = 0; r < k; ++r) {
        vp[ob + r * inner] = p[order[r] * inner];
        if (ip) ip[ob + r * inner] = order[r];
      }
    }
  };
  const int64_t n_out = outer * inner;
  if (ctx.pool()) ctx.pool()->ParallelFor(n_out, std::max<int64_t>(1, (1 << 12) / std::max<int64_t>(n, 1)), body);
  else body(0, n_out);
  return Status::Ok();
}

// TopK-1 (k attribute) -> TopK-10 (K: a 1-element int64 input 1, named <node>_k).
Status Upgrade(Graph& g, int ni, int from, int to) {
  if (!OpsetCrosses(from, to, 10)) return Status::Ok();
  Node& n = g.nodes[ni];
  DOPT_RETURN_IF_ERROR(NeedUpgradeInputs(n, 1));
  if (n.inputs.size() > 1 && n.inputs[1] >= 0) return Status::Ok();  // already has K
  DOPT_ASSIGN_OR_RETURN(int64_t k, KFromAttr(n));
  n.dirty = true;
  int id = AddInt64Initializer(g, n.name + "_k", {k});
  Node& m = g.nodes[ni];
  RemoveAttr(m, "k");
  m.inputs.resize(1);
  SetUpgradeInput(m, 1, id);
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_TopK() {
  static const OpDef def{
      .name = "TopK",
      .min_inputs = 1,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 2,
      .infer = Infer,
      .run = Run,
      .upgrade = UpgradeBy(Upgrade).Since(1),  // 10: k attribute -> input; 11: largest, sorted, negative axis; 24: types
      .quant = NoQuantRole(),  // values could share the input's scale, but output 1 is int64 indices
  };
  return def;
}

}  // namespace dopt
