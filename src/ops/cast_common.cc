#include "ops/cast_common.h"

#include <cstdint>
#include <type_traits>

#include "ops/logic_util.h"
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
  // Integer/bool/float sources to float32, bool or an integer type, typed and in parallel
  // (Tensor::CastTo converts one element at a time through double): the same values, i.e.
  // float32 from int64 through double as CastTo does, x != 0 for bool, integers by value.
  const bool src_ok = x.dtype() == DType::kBool || x.dtype() == DType::kFloat32 || IsInteger(x.dtype());
  const bool dst_ok = to == DType::kFloat32 || to == DType::kBool || (IsInteger(to) && x.dtype() != DType::kFloat32);
  if (src_ok && dst_ok) {
    Tensor& y = ctx.OutputUninitialized(0, to, x.shape());
    return VisitNumericOrBoolDType(x.dtype(), [&](auto stag) -> Status {
      using S = decltype(stag);
      const S* xp = x.data<S>();
      return VisitNumericOrBoolDType(to, [&](auto dtag) -> Status {
        using D = decltype(dtag);
        D* yp = y.data<D>();
        const bool to_bool = to == DType::kBool;
        ParallelForOrInline(ctx.pool(), x.numel(), 1 << 14, [&](int64_t b, int64_t e) {
          if (to_bool) {
            for (int64_t i = b; i < e; ++i) yp[i] = xp[i] != 0 ? 1 : 0;
          } else if constexpr (std::is_same_v<D, float>) {
            for (int64_t i = b; i < e; ++i) yp[i] = (float)(double)xp[i];
          } else if constexpr (std::is_integral_v<S>) {
            for (int64_t i = b; i < e; ++i) yp[i] = static_cast<D>(static_cast<int64_t>(xp[i]));
          }
        });
        return Status::Ok();
      });
    });
  }
  ctx.SetOutput(0, x.CastTo(to));
  return Status::Ok();
}

}  // namespace dopt
