#include "ops/cast_common.h"

#include <cstdint>

#include "ops/op_util.h"

namespace dopt {

Status RunCast(KernelContext& ctx, DType to) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() == DType::kString || x.dtype() == DType::kUndefined) {
    return InvalidArgument(std::string("cannot cast a ") + DTypeName(x.dtype()) + " tensor");
  }
  if (x.dtype() == to) {
    ctx.SetOutput(0, x);  // no-op cast: share the buffer
    return Status::Ok();
  }
  if (to == DType::kFloat16 || to == DType::kBFloat16) {
    // Round through the 16-bit type, hand back float32.
    ctx.SetOutput(0, x.CastTo(to).CastTo(DType::kFloat32));
    return Status::Ok();
  }
  if (x.dtype() == DType::kFloat32 && IsInteger(to)) {
    // Truncate toward zero through int64, then wrap to the target width. NaN gives 0 and
    // values beyond the int64 range are clamped first, so no conversion is undefined.
    const float* xp = x.data<float>();
    Tensor& y = ctx.Output(0, to, x.shape());
    return VisitNumericDType(to, [&](auto tag) -> Status {
      using T = decltype(tag);
      T* yp = y.data<T>();
      ParallelForOrInline(ctx.pool(), x.numel(), 1 << 14, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          const float v = xp[i];
          int64_t q = v != v ? 0 : v >= 9.2233720e18f ? INT64_MAX : v <= -9.2233720e18f ? INT64_MIN : (int64_t)v;
          yp[i] = static_cast<T>(q);
        }
      });
      return Status::Ok();
    });
  }
  ctx.SetOutput(0, x.CastTo(to));
  return Status::Ok();
}

}  // namespace dopt
