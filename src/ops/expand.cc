// Expand: broadcasts x to the int64 `shape` input with numpy's bidirectional rule (a 1 in
// `shape` keeps x's dim). Output rank max(rank(x), len(shape)); dims unknown until `shape` is.
// Only copies elements, so int8 in -> int8 out on the same scale is exact.
#include "ops/logic_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kInt64}));
  const ValueInfo& x = ctx.input(0);
  const ValueInfo& s = ctx.input(1);
  if (s.rank_known && s.shape.size() != 1) return InvalidArgument(ctx.node().Describe() + ": shape must be 1-D");
  Shape target;
  if (s.value) target = s.value->ToInt64Vector();
  else if (s.rank_known && s.shape[0] >= 0 && s.shape[0] <= kMaxDeclaredRank) target = Shape(s.shape[0], -1);
  else {
    ctx.SetOutputUnknownRank(0, x.dtype);
    return Status::Ok();
  }
  if (!x.rank_known) {
    ctx.SetOutputUnknownRank(0, x.dtype);
    return Status::Ok();
  }
  for (int64_t d : target)
    if (s.value && d < 0) return InvalidArgument(ctx.node().Describe() + ": negative dim in shape");
  DOPT_ASSIGN_OR_RETURN(Shape out, BroadcastShapes(ctx.node(), x.shape, target));
  ctx.SetOutput(0, x.dtype, out);
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& s = ctx.input(1);
  if (s.dtype() != DType::kInt64 || s.rank() != 1) return InvalidArgument(ctx.node().Describe() + ": shape must be 1-D int64");
  Shape target = s.ToInt64Vector();
  for (int64_t d : target)
    if (d < 0) return InvalidArgument(ctx.node().Describe() + ": negative dim in shape");
  DOPT_ASSIGN_OR_RETURN(Shape out, BroadcastShapes(ctx.node(), x.shape(), target));
  Tensor& y = ctx.OutputUninitialized(0, x.dtype(), out);
  const auto strides = BroadcastStrides(x.shape(), out);
  const bool ok = DispatchByElemSize(DTypeSize(x.dtype()), [&](auto tag) {
    using T = decltype(tag);
    const T* xp = static_cast<const T*>(x.raw());
    T* yp = static_cast<T*>(y.raw());
    ForEachBroadcastRun(out, {strides}, ctx.pool(), [&](int64_t i, const int64_t* o, const int64_t* st, int64_t len) {
      CopyStridedRun(yp + i, xp + o[0], len, st[0]);
    });
  });
  if (!ok) return InvalidArgument(ctx.node().Describe() + ": unsupported type " + DTypeName(x.dtype()));
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_Expand() {
  static const OpDef def{
      .name = "Expand",
      .min_inputs = 2,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 8; 13: bfloat16"),
      .quant = SharesInputScale(),  // copies elements of x
  };
  return def;
}

}  // namespace dopt
