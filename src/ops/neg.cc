// Neg: y = -x for floats and signed integers (integer MIN wraps to MIN).
#include <type_traits>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kInt8,
                                                DType::kInt16, DType::kInt32, DType::kInt64}));
  return InferSameAsInput0(ctx);
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() == DType::kUInt8) return InvalidArgument("Neg does not take uint8 input");
  return VisitNumericDType(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    Tensor& y = ctx.Output(0, x.dtype(), x.shape());
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    ParallelForOrInline(ctx.pool(), x.numel(), 1 << 14, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        if constexpr (std::is_integral_v<T>) yp[i] = static_cast<T>(-static_cast<std::make_unsigned_t<T>>(xp[i]));
        else yp[i] = -xp[i];
      }
    });
    return Status::Ok();
  });
}

}  // namespace

const OpDef& OpDef_Neg() {
  static const OpDef def{
      .name = "Neg",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("13: types only").Since(6),
      .quant = NoQuantRole(),  // int8 -(-128) overflows, and the zero point need not be 0
  };
  return def;
}

}  // namespace dopt
