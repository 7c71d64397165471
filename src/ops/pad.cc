// Pad: pads (or, with negative pads, crops) each dim. Opset < 11: `pads` (or opset-1
// `paddings`) and `value` attributes; from 11: pads input, optional constant_value input and
// (opset 18) axes input. Modes: constant, reflect, edge, wrap. Any dtype.
#include <algorithm>
#include <cstring>

#include "ops/pad.h"

#include "ir/graph_edit.h"
#include "ops/op_upgrade.h"
#include "ops/op_util.h"

namespace dopt {
namespace {

// Full-rank pads [begin_0.., end_0..] from the attribute or inputs (pads, axes); returns false
// when an input value is not known yet.
StatusOr<bool> GetPads(const Node& node, int rank, const std::vector<bool>& present,
                       const std::vector<const Tensor*>& ins, std::vector<int64_t>* pads) {
  std::vector<int64_t> p;
  if (present.size() > 1 && present[1]) {
    if (!ins[1]) return false;
    p = ins[1]->ToInt64Vector();
  } else if (node.HasAttr("pads")) {
    DOPT_ASSIGN_OR_RETURN(p, node.GetInts("pads"));
  } else if (node.HasAttr("paddings")) {
    DOPT_ASSIGN_OR_RETURN(p, node.GetInts("paddings"));
  } else {
    return InvalidArgument(node.Describe() + ": no pads attribute or input");
  }
  std::vector<int64_t> axes;
  if (present.size() > 3 && present[3]) {
    if (!ins[3]) return false;
    axes = ins[3]->ToInt64Vector();
  } else {
    for (int i = 0; i < rank; ++i) axes.push_back(i);
  }
  if (p.size() != 2 * axes.size()) {
    return InvalidArgument(node.Describe() + ": pads has " + std::to_string(p.size()) + " entries, expected " +
                           std::to_string(2 * axes.size()));
  }
  pads->assign(2 * rank, 0);
  const size_t k = axes.size();
  for (size_t i = 0; i < k; ++i) {
    int64_t a = axes[i];
    if (a < -rank || a >= rank) {
      return InvalidArgument(node.Describe() + ": axis " + std::to_string(a) + " is out of range for rank " +
                             std::to_string(rank));
    }
    if (a < 0) a += rank;
    (*pads)[a] = p[i];
    (*pads)[a + rank] = p[i + k];
  }
  return true;
}

StatusOr<std::string> GetMode(const Node& node) {
  DOPT_ASSIGN_OR_RETURN(std::string mode, node.GetString("mode", "constant"));
  if (mode != "constant" && mode != "reflect" && mode != "edge" && mode != "wrap") {
    return InvalidArgument(node.Describe() + ": unknown mode '" + mode + "'");
  }
  return mode;
}

Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  DOPT_RETURN_IF_ERROR(GetMode(node).status());
  const ValueInfo& x = ctx.input(0);
  if (ctx.has_input(1)) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kInt64}));
  if (ctx.has_input(3)) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 3, {DType::kInt32, DType::kInt64}));
  if (ctx.has_input(2) && ctx.input(2).dtype != DType::kUndefined && x.dtype != DType::kUndefined &&
      ctx.input(2).dtype != x.dtype) {
    return InvalidArgument(node.Describe() + ": constant_value is " + DTypeName(ctx.input(2).dtype) + ", data is " +
                           DTypeName(x.dtype));
  }
  if (!x.rank_known) {
    ctx.SetOutputUnknownRank(0, x.dtype);
    return Status::Ok();
  }
  const int rank = (int)x.shape.size();
  std::vector<bool> present(ctx.num_inputs());
  std::vector<const Tensor*> ins(ctx.num_inputs(), nullptr);
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    present[i] = ctx.has_input(i);
    if (present[i]) ins[i] = ctx.input(i).value;
  }
  std::vector<int64_t> pads;
  DOPT_ASSIGN_OR_RETURN(bool known, GetPads(node, rank, present, ins, &pads));
  Shape out(rank, -1);
  if (known) {
    for (int d = 0; d < rank; ++d) {
      if (x.shape[d] < 0) continue;
      out[d] = x.shape[d] + pads[d] + pads[d + rank];
      if (out[d] < 0) {
        return InvalidArgument(node.Describe() + ": pads crop dim " + std::to_string(d) + " of size " +
                               std::to_string(x.shape[d]) + " below zero");
      }
    }
  }
  ctx.SetOutput(0, x.dtype, out);
  return Status::Ok();
}

// Source index for output position i (already shifted by -begin) in a dim of size n.
inline int64_t MapIndex(int64_t i, int64_t n, int mode) {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case 1: {  // reflect
      if (n == 1) return 0;
      int64_t p = 2 * (n - 1);
      int64_t m = ((i % p) + p) % p;
      return m >= n ? p - m : m;
    }
    case 2: return i < 0 ? 0 : n - 1;     // edge
    case 3: return ((i % n) + n) % n;     // wrap
    default: return -1;                   // constant
  }
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  const Tensor& x = ctx.input(0);
  DOPT_ASSIGN_OR_RETURN(std::string mode_s, GetMode(node));
  const int mode = mode_s == "constant" ? 0 : mode_s == "reflect" ? 1 : mode_s == "edge" ? 2 : 3;
  const int rank = x.rank();
  std::vector<bool> present(ctx.num_inputs());
  std::vector<const Tensor*> ins(ctx.num_inputs(), nullptr);
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    present[i] = ctx.has_input(i);
    if (present[i]) ins[i] = &ctx.input(i);
  }
  std::vector<int64_t> pads;
  DOPT_ASSIGN_OR_RETURN(bool known, GetPads(node, rank, present, ins, &pads));
  if (!known) return Internal(node.Describe() + ": pads missing");
  Shape out(rank);
  for (int d = 0; d < rank; ++d) {
    out[d] = x.dim(d) + pads[d] + pads[d + rank];
    if (out[d] < 0) {
      return InvalidArgument(node.Describe() + ": pads crop dim " + std::to_string(d) + " of size " +
                             std::to_string(x.dim(d)) + " below zero");
    }
    if (mode != 0 && x.dim(d) == 0 && out[d] > 0) {
      return InvalidArgument(node.Describe() + ": cannot pad an empty dim in " + mode_s + " mode");
    }
  }
  // The fill value in the data's type.
  Tensor fill;
  if (ctx.has_input(2) && ctx.input(2).numel() > 0) {
    const Tensor& cv = ctx.input(2);
    if (cv.dtype() != x.dtype()) {
      return InvalidArgument(node.Describe() + ": constant_value is " + DTypeName(cv.dtype()) + ", data is " +
                             DTypeName(x.dtype()));
    }
    fill = cv;
  } else {
    DOPT_ASSIGN_OR_RETURN(float v, node.GetFloat("value", 0.f));
    fill = Tensor::Scalar(v);
    if (x.dtype() != DType::kFloat32) fill = fill.CastTo(x.dtype());
  }
  Tensor& y = ctx.Output(0, x.dtype(), out);
  if (y.numel() == 0) return Status::Ok();
  if (rank == 0) {
    std::memcpy(y.raw(), x.raw(), x.nbytes());
    return Status::Ok();
  }
  std::vector<int64_t> in_stride(rank, 1);
  for (int d = rank - 2; d >= 0; --d) in_stride[d] = in_stride[d + 1] * x.dim(d + 1);
  const int64_t out_last = out[rank - 1], n_last = x.dim(rank - 1), b_last = pads[rank - 1];
  int64_t rows = 1;
  for (int d = 0; d < rank - 1; ++d) rows *= out[d];
  bool ok = DispatchByElemSize(DTypeSize(x.dtype()), [&](auto tag) {
    using T = decltype(tag);
    T cval;
    std::memcpy(&cval, fill.raw(), sizeof(T));
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    // Output positions [lo, hi) of the last dim read the input contiguously.
    const int64_t lo = std::min(std::max<int64_t>(b_last, 0), out_last);
    const int64_t hi = std::max(lo, std::min(b_last + n_last, out_last));
    auto body = [&](int64_t r0, int64_t r1) {
      for (int64_t row = r0; row < r1; ++row) {
        T* dst = yp + row * out_last;
        int64_t rem = row, off = 0;
        bool outside = false;
        for (int d = rank - 2; d >= 0; --d) {
          int64_t i = rem % out[d];
          rem /= out[d];
          int64_t s = MapIndex(i - pads[d], x.dim(d), mode);
          if (s < 0) {
            outside = true;
            break;
          }
          off += s * in_stride[d];
        }
        if (outside) {
          std::fill(dst, dst + out_last, cval);
          continue;
        }
        const T* src = xp + off;
        for (int64_t j = 0; j < lo; ++j) {
          int64_t s = MapIndex(j - b_last, n_last, mode);
          dst[j] = s < 0 ? cval : src[s];
        }
        if (hi > lo) std::memcpy(dst + lo, src + (lo - b_last), (size_t)(hi - lo) * sizeof(T));
        for (int64_t j = hi; j < out_last; ++j) {
          int64_t s = MapIndex(j - b_last, n_last, mode);
          dst[j] = s < 0 ? cval : src[s];
        }
      }
    };
    if (ctx.pool()) ctx.pool()->ParallelFor(rows, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(out_last, 1)), body);
    else body(0, rows);
  });
  if (!ok) return InvalidArgument(node.Describe() + ": unsupported type " + DTypeName(x.dtype()));
  return Status::Ok();
}

// Opset upgrade: 11 turns the pads/value attributes into the pads (int64) and optional
// constant_value inputs; 13, 21: types; 18: optional axes input (default: every axis); 19: the
// wrap mode.
Status Upgrade(Graph& g, int ni, int from, int to) {
  if (!OpsetCrosses(from, to, 11)) return Status::Ok();
  Node& n = g.nodes[ni];
  DOPT_RETURN_IF_ERROR(NeedUpgradeInputs(n, 1));
  n.dirty = true;
  if (!n.HasAttr("pads")) return InvalidArgument(n.Describe() + ": cannot upgrade: no 'pads' attribute");
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> pads, n.GetInts("pads"));
  DOPT_ASSIGN_OR_RETURN(std::string mode, n.GetString("mode", "constant"));
  bool has_value = n.HasAttr("value");
  DOPT_ASSIGN_OR_RETURN(float value, n.GetFloat("value", 0.f));
  DType dt = g.value(n.inputs[0]).dtype;
  std::string name = n.name;
  int pads_id = AddInt64Initializer(g, name + "_pads", pads);
  int value_id = -1;
  if (has_value && mode == "constant") {
    DOPT_ASSIGN_OR_RETURN(value_id, AddFloatScalarInitializer(g, g.nodes[ni], name + "_value", value, dt));
  }
  Node& m = g.nodes[ni];
  RemoveAttr(m, "pads");
  RemoveAttr(m, "value");
  m.inputs.resize(1);
  SetUpgradeInput(m, 1, pads_id);
  SetUpgradeInput(m, 2, value_id);
  return Status::Ok();
}

// Quantization: the reflect, edge and wrap modes only copy elements, and so does the constant
// mode with fill value 0 (the zero point); another fill value need not lie on the input's grid.
bool SharesScale(const Graph& g, const Node& n) {
  auto mode = n.GetString("mode", "constant");
  if (!mode.ok()) return false;
  if (*mode != "constant") return true;
  if (n.inputs.size() > 2 && n.inputs[2] >= 0) {
    const Tensor* v = g.value(n.inputs[2]).ConstantValue();
    if (!v) return false;
    for (double x : v->ToDoubleVector())
      if (x != 0) return false;
    return true;
  }
  auto value = n.GetFloat("value", 0.f);
  return value.ok() && *value == 0.f;
}

}  // namespace

bool ConstantZeroPads(const Graph& g, const Node& pad, int rank, std::vector<int64_t>* full) {
  auto mode = GetMode(pad);
  if (!mode.ok() || *mode != "constant") return false;
  std::vector<bool> present(pad.inputs.size());
  std::vector<const Tensor*> ins(pad.inputs.size(), nullptr);
  for (size_t i = 1; i < pad.inputs.size(); ++i) {
    present[i] = pad.inputs[i] >= 0;
    if (present[i] && !(ins[i] = ModelConstant(g, pad.inputs[i]))) return false;
  }
  if (present.size() > 2 && present[2]) {
    if (ins[2]->numel() > 1) return false;
    if (ins[2]->numel() == 1 && ins[2]->CastTo(DType::kFloat32).data<float>()[0] != 0.f) return false;
  } else {
    auto v = pad.GetFloat("value", 0.f);
    if (!v.ok() || *v != 0.f) return false;
  }
  auto known = GetPads(pad, rank, present, ins, full);
  if (!known.ok() || !*known) return false;
  return std::all_of(full->begin(), full->end(), [](int64_t v) { return v >= 0; });
}

const OpDef& OpDef_Pad() {
  static const OpDef def{
      .name = "Pad",
      .min_inputs = 1,
      .max_inputs = 4,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = UpgradeBy(Upgrade).Since(2),
      .quant = SharesInputScale(0, SharesScale),
  };
  return def;
}

}  // namespace dopt
