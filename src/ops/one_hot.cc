// OneHot: y has indices' shape with a new dim of size `depth` inserted at `axis` (default -1,
// last); y = values[1] where the position along axis equals the index, values[0] elsewhere.
// Float indices are cast to int64 (truncated), as the spec says (onnx.reference compares them
// unconverted). Negative indices count from depth (opset 9: they are out of range);
// out-of-range indices give an all-off row. y has values' dtype. The output shape depends on
// the value of depth: unknown until it is constant.
#include <cmath>

#include "ops/logic_util.h"

namespace dopt {
namespace {

StatusOr<int64_t> Depth(const Node& node, const Tensor& d) {
  if (d.numel() != 1) return InvalidArgument(node.Describe() + ": depth must have one element");
  const double v = d.ToDoubleVector()[0];
  if (!(v >= 1)) return InvalidArgument(node.Describe() + ": depth must be positive");
  return (int64_t)v;
}

Status Infer(InferContext& ctx) {
  const ValueInfo& idx = ctx.input(0);
  const ValueInfo& depth = ctx.input(1);
  const DType t = ctx.input(2).dtype;
  if (!idx.rank_known) {
    ctx.SetOutputUnknownRank(0, t);
    return Status::Ok();
  }
  DOPT_ASSIGN_OR_RETURN(int64_t axis_attr, ctx.node().GetInt("axis", -1));
  const int rank = (int)idx.shape.size() + 1;
  DOPT_ASSIGN_OR_RETURN(int axis, NormalizeAxis(ctx.node(), axis_attr, rank));
  int64_t d = -1;
  if (depth.value) {
    DOPT_ASSIGN_OR_RETURN(d, Depth(ctx.node(), *depth.value));
  }
  Shape out = idx.shape;
  out.insert(out.begin() + axis, d);
  ctx.SetOutput(0, t, out);
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Tensor& idx = ctx.input(0);
  const Tensor& vals = ctx.input(2);
  if (vals.numel() != 2) return InvalidArgument(ctx.node().Describe() + ": values must have 2 elements");
  DOPT_ASSIGN_OR_RETURN(int64_t depth, Depth(ctx.node(), ctx.input(1)));
  DOPT_ASSIGN_OR_RETURN(int64_t axis_attr, ctx.node().GetInt("axis", -1));
  const int rank = idx.rank() + 1;
  DOPT_ASSIGN_OR_RETURN(int axis, NormalizeAxis(ctx.node(), axis_attr, rank));
  Shape out = idx.shape();
  out.insert(out.begin() + axis, depth);
  Tensor& y = ctx.OutputUninitialized(0, vals.dtype(), out);
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= idx.dim(d);
  for (int d = axis; d < idx.rank(); ++d) inner *= idx.dim(d);
  const std::vector<double> iv = idx.ToDoubleVector();
  const bool count_from_end = ctx.node().opset_version >= 11;  // 9: any index outside [0, depth) is all off
  const bool ok = DispatchByElemSize(DTypeSize(vals.dtype()), [&](auto tag) {
    using T = decltype(tag);
    const T off = static_cast<const T*>(vals.raw())[0], on = static_cast<const T*>(vals.raw())[1];
    T* yp = static_cast<T*>(y.raw());
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t dd = 0; dd < depth; ++dd)
        for (int64_t i = 0; i < inner; ++i) {
          int64_t k = (int64_t)std::trunc(iv[o * inner + i]);
          if (k < 0 && count_from_end) k += depth;
          yp[(o * depth + dd) * inner + i] = k == dd ? on : off;
        }
  });
  if (!ok) return InvalidArgument(ctx.node().Describe() + ": unsupported type " + DTypeName(vals.dtype()));
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_OneHot() {
  static const OpDef def{
      .name = "OneHot",
      .min_inputs = 3,
      .max_inputs = 3,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 9; 11: negative indices count from the end (9 gave an all-off row) and a negative axis; "
                                 "the same for indices in [0, depth), the only ones 9 defined as on"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
