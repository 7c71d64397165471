// CastLike: casts x to the dtype of `target_type` (only its dtype is used). As Cast: float ->
// int truncates toward zero (NaN gives 0, out-of-range values clamp to int64 first, then wrap);
// -> bool is x != 0. A float16/bfloat16 target arrives at the kernel as float32 (a compute
// dtype), so the kernel's float32 result is not rounded through the 16-bit type; the executor
// rounds graph outputs to their declared dtype.
#include <cstdint>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  const std::initializer_list<DType> types = {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kInt8,
                                              DType::kUInt8,   DType::kInt16,   DType::kInt32,    DType::kInt64,
                                              DType::kBool};
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, types));
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, types));
  const ValueInfo& x = ctx.input(0);
  const DType to = ctx.input(1).dtype;
  if (x.rank_known) ctx.SetOutput(0, to, x.shape);
  else ctx.SetOutputUnknownRank(0, to);
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const DType to = ctx.input(1).dtype();
  if (x.dtype() == DType::kString || x.dtype() == DType::kUndefined || to == DType::kString ||
      to == DType::kUndefined) {
    return InvalidArgument(ctx.node().Describe() + ": unsupported types");
  }
  if (x.dtype() == to) {
    ctx.SetOutput(0, x);
    return Status::Ok();
  }
  if (x.dtype() == DType::kFloat32 && IsInteger(to)) {
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

}  // namespace

const OpDef& OpDef_CastLike() {
  static const OpDef def{
      .name = "CastLike",
      .min_inputs = 2,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 15; 19: saturate (float8 targets only); 21: types"),
      .quant = NoQuantRole(),  // changes the element type
  };
  return def;
}

}  // namespace dopt
