// Where: y = condition ? x : y, with numpy broadcasting of all three inputs; condition is bool,
// x and y share any dtype (the output's).
#include "ops/logic_util.h"

namespace dopt {
namespace {

// o[i] = c[i * cs] ? x[i * xs] : y[i * ys] for i < n, with the common strides as loops the
// compiler can vectorise.
template <typename T>
void SelectRun(T* o, const uint8_t* c, const T* x, const T* y, int64_t n, int64_t cs, int64_t xs, int64_t ys) {
  if (cs == 0) {
    if (*c) CopyStridedRun(o, x, n, xs);
    else CopyStridedRun(o, y, n, ys);
  } else if (cs == 1 && xs == 0 && ys == 0) {
    const T xv = *x, yv = *y;
    for (int64_t i = 0; i < n; ++i) o[i] = c[i] ? xv : yv;
  } else if (cs == 1 && xs == 0 && ys == 1) {
    const T xv = *x;
    for (int64_t i = 0; i < n; ++i) o[i] = c[i] ? xv : y[i];
  } else if (cs == 1 && xs == 1 && ys == 0) {
    const T yv = *y;
    for (int64_t i = 0; i < n; ++i) o[i] = c[i] ? x[i] : yv;
  } else if (cs == 1 && xs == 1 && ys == 1) {
    for (int64_t i = 0; i < n; ++i) o[i] = c[i] ? x[i] : y[i];
  } else {
    for (int64_t i = 0; i < n; ++i) o[i] = c[i * cs] ? x[i * xs] : y[i * ys];
  }
}

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kBool}));
  const ValueInfo& c = ctx.input(0);
  const ValueInfo& x = ctx.input(1);
  const ValueInfo& y = ctx.input(2);
  if (x.dtype != DType::kUndefined && y.dtype != DType::kUndefined && x.dtype != y.dtype) {
    return InvalidArgument(ctx.node().Describe() + ": X and Y have different types " + DTypeName(x.dtype) + " and " +
                           DTypeName(y.dtype));
  }
  const DType t = x.dtype != DType::kUndefined ? x.dtype : y.dtype;
  if (!c.rank_known || !x.rank_known || !y.rank_known) {
    ctx.SetOutputUnknownRank(0, t);
    return Status::Ok();
  }
  DOPT_ASSIGN_OR_RETURN(Shape s, BroadcastShapes(ctx.node(), c.shape, x.shape));
  DOPT_ASSIGN_OR_RETURN(s, BroadcastShapes(ctx.node(), s, y.shape));
  ctx.SetOutput(0, t, s);
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Tensor& c = ctx.input(0);
  const Tensor& x = ctx.input(1);
  const Tensor& y = ctx.input(2);
  if (c.dtype() != DType::kBool) return InvalidArgument(ctx.node().Describe() + ": condition must be bool");
  if (x.dtype() != y.dtype()) return InvalidArgument(ctx.node().Describe() + ": X and Y have different types");
  DOPT_ASSIGN_OR_RETURN(Shape s, BroadcastShapes(ctx.node(), c.shape(), x.shape()));
  DOPT_ASSIGN_OR_RETURN(s, BroadcastShapes(ctx.node(), s, y.shape()));
  Tensor& out = ctx.OutputUninitialized(0, x.dtype(), s);
  const uint8_t* cp = c.data<uint8_t>();
  const bool ok = DispatchByElemSize(DTypeSize(x.dtype()), [&](auto tag) {
    using T = decltype(tag);
    const T* xp = static_cast<const T*>(x.raw());
    const T* yp = static_cast<const T*>(y.raw());
    T* op = static_cast<T*>(out.raw());
    ForEachBroadcastRun(s, {BroadcastStrides(c.shape(), s), BroadcastStrides(x.shape(), s), BroadcastStrides(y.shape(), s)},
                        ctx.pool(), [&](int64_t i, const int64_t* o, const int64_t* st, int64_t len) {
                          SelectRun(op + i, cp + o[0], xp + o[1], yp + o[2], len, st[0], st[1], st[2]);
                        });
  });
  if (!ok) return InvalidArgument(ctx.node().Describe() + ": unsupported type " + DTypeName(x.dtype()));
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_Where() {
  static const OpDef def{
      .name = "Where",
      .min_inputs = 3,
      .max_inputs = 3,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 9; 16: bfloat16"),
      .quant = NoQuantRole(),  // X and Y would need one shared scale; not declared yet
  };
  return def;
}

}  // namespace dopt
