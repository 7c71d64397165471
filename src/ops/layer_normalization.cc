// LayerNormalization (opset 17): x viewed as [outer, n] at `axis` (n = prod(dims >= axis));
// each row is normalized with its own mean and variance,
//   Y = (x - mean) / sqrt(var + epsilon) * Scale + B,
// Scale and B broadcasting unidirectionally onto x.shape[axis:]. Optional outputs Mean and
// InvStdDev have x's shape with the dims from `axis` set to 1, of type stash_type (only 1,
// float32, is supported: dopt computes in float32).
#include <cmath>
#include <vector>

#include "ops/normalization_util.h"

namespace dopt {
namespace {

StatusOr<int> GetAxis(const Node& node, int rank) {
  DOPT_ASSIGN_OR_RETURN(int64_t axis, node.GetInt("axis", -1));
  if (rank == 0) return InvalidArgument(node.Describe() + ": input X must have rank >= 1");
  return NormalizeAxis(node, axis, rank);
}

Status CheckStash(const Node& node) {
  DOPT_ASSIGN_OR_RETURN(int64_t stash, node.GetInt("stash_type", 1));
  if (stash != 1)
    return Unimplemented(node.Describe() + ": stash_type " + std::to_string(stash) +
                         " is not supported (only 1, float32)");
  return Status::Ok();
}

// Checks that `p` (Scale or B) broadcasts unidirectionally onto `norm` (x.shape[axis:]).
Status CheckParamShape(const Node& node, const char* what, const Shape& p, const Shape& norm) {
  bool ok = p.size() <= norm.size();
  for (size_t i = 0; ok && i < p.size(); ++i) {
    const int64_t pd = p[p.size() - 1 - i], nd = norm[norm.size() - 1 - i];
    if (pd >= 0 && nd >= 0 && pd != 1 && pd != nd) ok = false;
  }
  if (!ok)
    return InvalidArgument(node.Describe() + ": " + what + " of shape " + ShapeToString(p) +
                           " does not broadcast to the normalized shape " + ShapeToString(norm));
  return Status::Ok();
}

Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  DOPT_RETURN_IF_ERROR(CheckStash(node));
  for (int i = 0; i < ctx.num_inputs(); ++i)
    if (ctx.has_input(i)) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, i, DOPT_NORM_FLOAT_TYPES));
  const ValueInfo& x = ctx.input(0);
  if (ctx.input(1).dtype != x.dtype || (ctx.has_input(2) && ctx.input(2).dtype != x.dtype))
    return InvalidArgument(node.Describe() + ": Scale and B must have X's type");
  if (!x.rank_known) {
    for (int i = 0; i < ctx.num_outputs(); ++i) ctx.SetOutputUnknownRank(i, i == 0 ? x.dtype : DType::kFloat32);
    return Status::Ok();
  }
  DOPT_ASSIGN_OR_RETURN(int a, GetAxis(node, (int)x.shape.size()));
  const Shape norm(x.shape.begin() + a, x.shape.end());
  for (int i = 1; i < 3; ++i)
    if (ctx.has_input(i) && ctx.input(i).rank_known)
      DOPT_RETURN_IF_ERROR(CheckParamShape(node, i == 1 ? "Scale" : "B", ctx.input(i).shape, norm));
  ctx.SetOutput(0, x.dtype, x.shape);
  Shape stat = x.shape;
  for (size_t d = a; d < stat.size(); ++d) stat[d] = 1;
  for (int i = 1; i < ctx.num_outputs(); ++i) ctx.SetOutput(i, DType::kFloat32, stat);
  return Status::Ok();
}

// For each of the n elements of the normalized shape, the index into `p` broadcast onto it.
std::vector<int64_t> BroadcastIndex(const Shape& p, const Shape& norm, int64_t n) {
  std::vector<int64_t> idx((size_t)n, 0);
  const int pr = (int)p.size(), nr = (int)norm.size();
  std::vector<int64_t> stride(nr, 0);  // p's stride for each dim of norm (0: broadcast)
  int64_t s = 1;
  for (int i = pr - 1; i >= 0; --i) {
    const int d = nr - pr + i;
    stride[d] = p[i] == 1 ? 0 : s;
    s *= p[i];
  }
  std::vector<int64_t> pos(nr, 0);
  for (int64_t j = 0; j < n; ++j) {
    int64_t k = 0;
    for (int d = 0; d < nr; ++d) k += pos[d] * stride[d];
    idx[j] = k;
    for (int d = nr - 1; d >= 0; --d) {
      if (++pos[d] < norm[d]) break;
      pos[d] = 0;
    }
  }
  return idx;
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  DOPT_RETURN_IF_ERROR(CheckStash(node));
  DOPT_RETURN_IF_ERROR(CheckFloatInputs(ctx));
  DOPT_ASSIGN_OR_RETURN(float eps, node.GetFloat("epsilon", 1e-5f));
  const Tensor& x = ctx.input(0);
  DOPT_ASSIGN_OR_RETURN(int a, GetAxis(node, x.rank()));
  const Shape norm(x.shape().begin() + a, x.shape().end());
  int64_t n = NumElements(norm);
  const int64_t outer = NumElements(Shape(x.shape().begin(), x.shape().begin() + a));
  const Tensor& scale = ctx.input(1);
  DOPT_RETURN_IF_ERROR(CheckParamShape(node, "Scale", scale.shape(), norm));
  const bool has_b = ctx.has_input(2);
  if (has_b) DOPT_RETURN_IF_ERROR(CheckParamShape(node, "B", ctx.input(2).shape(), norm));
  const std::vector<int64_t> si = BroadcastIndex(scale.shape(), norm, n);
  const std::vector<int64_t> bi = has_b ? BroadcastIndex(ctx.input(2).shape(), norm, n) : std::vector<int64_t>();
  Tensor& y = ctx.OutputUninitialized(0, DType::kFloat32, x.shape());
  Shape stat = x.shape();
  for (size_t d = a; d < stat.size(); ++d) stat[d] = 1;
  float* mp = nullptr;
  float* ip = nullptr;
  if (ctx.num_outputs() > 1) mp = ctx.Output(1, DType::kFloat32, stat).data<float>();
  if (ctx.num_outputs() > 2) ip = ctx.Output(2, DType::kFloat32, stat).data<float>();
  const float* xp = x.data<float>();
  const float* sp = scale.data<float>();
  const float* bp = has_b ? ctx.input(2).data<float>() : nullptr;
  float* yp = y.data<float>();
  // Scale and B of the normalized shape itself (the usual [C]): read in place, vectorised.
  const bool dense = scale.numel() == n && (!bp || ctx.input(2).numel() == n);
  ParallelForOrInline(ctx.pool(), outer, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, n)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = xp + r * n;
      float* yr = yp + r * n;
      const GroupStats st = ComputeGroupStats(xr, n);
      const float mean = (float)st.mean;
      const float inv = (float)(1.0 / std::sqrt(st.var + (double)eps));
      if (dense) {
        kernels::NormalizeScaleBias(xr, yr, n, mean, inv, sp, bp);
      } else {
        for (int64_t j = 0; j < n; ++j) {
          float v = (xr[j] - mean) * inv * sp[si[j]];
          if (bp) v += bp[bi[j]];
          yr[j] = v;
        }
      }
      if (mp) mp[r] = mean;
      if (ip) ip[r] = inv;
    }
  });
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_LayerNormalization() {
  static const OpDef def{
      .name = "LayerNormalization",
      .min_inputs = 2,
      .max_inputs = 3,
      .min_outputs = 1,
      .max_outputs = 3,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("17: introduced (no older default-domain form to carry); unchanged through 21"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
