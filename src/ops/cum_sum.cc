// CumSum: running sums of x along the axis given by a scalar int32/int64 input; `exclusive`
// leaves out the element itself, `reverse` sums from the end.
#include "ops/op_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kInt32,
                                                DType::kInt64}));
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kInt32, DType::kInt64}));
  return InferSameAsInput0(ctx);
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& a = ctx.input(1);
  if (a.numel() != 1) return InvalidArgument(ctx.node().Describe() + ": axis must be a scalar");
  if (x.rank() == 0) return InvalidArgument(ctx.node().Describe() + ": input must have rank >= 1");
  DOPT_ASSIGN_OR_RETURN(int axis, NormalizeAxis(ctx.node(), a.ToInt64Vector()[0], x.rank()));
  DOPT_ASSIGN_OR_RETURN(int64_t exclusive, ctx.node().GetInt("exclusive", 0));
  DOPT_ASSIGN_OR_RETURN(int64_t reverse, ctx.node().GetInt("reverse", 0));
  Tensor& y = ctx.OutputUninitialized(0, x.dtype(), x.shape());
  int64_t outer = 1, inner = 1;
  const int64_t n = x.dim(axis);
  for (int d = 0; d < axis; ++d) outer *= x.dim(d);
  for (int d = axis + 1; d < x.rank(); ++d) inner *= x.dim(d);
  return VisitNumericDType(x.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    ParallelForOrInline(ctx.pool(), outer * inner, 1024, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        const int64_t base = (t / inner) * n * inner + t % inner;
        T acc = 0;
        for (int64_t s = 0; s < n; ++s) {
          const int64_t k = reverse ? n - 1 - s : s;
          const int64_t off = base + k * inner;
          if (exclusive) {
            yp[off] = acc;
            acc = (T)(acc + xp[off]);
          } else {
            acc = (T)(acc + xp[off]);
            yp[off] = acc;
          }
        }
      }
    });
    return Status::Ok();
  });
}

}  // namespace

const OpDef& OpDef_CumSum() {
  static const OpDef def{
      .name = "CumSum",
      .min_inputs = 2,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 11; 14: float16 and bfloat16"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
