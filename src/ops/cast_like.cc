// CastLike: casts x to the dtype of `target_type` (only its dtype is used). As Cast: float ->
// int truncates toward zero (NaN gives 0, out-of-range values clamp to int64 first, then wrap);
// -> bool is x != 0. A float16/bfloat16 target arrives at the kernel as float32 (a compute
// dtype), so the kernel's float32 result is not rounded through the 16-bit type; the executor
// rounds graph outputs to their declared dtype.
#include <cstdint>

#include "ops/cast_common.h"
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
  const DType to = ctx.input(1).dtype();
  if (to == DType::kString || to == DType::kUndefined) {
    return InvalidArgument(ctx.node().Describe() + ": unsupported types");
  }
  return RunCast(ctx, to);
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
