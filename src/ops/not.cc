// Not: y = logical not of a bool tensor.
#include "ops/op_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kBool}));
  return InferSameAsInput0(ctx);
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::kBool) return InvalidArgument(std::string("expected bool input, got ") + DTypeName(x.dtype()));
  Tensor& y = ctx.OutputUninitialized(0, DType::kBool, x.shape());
  const uint8_t* xp = x.data<uint8_t>();
  uint8_t* yp = y.data<uint8_t>();
  ParallelForOrInline(ctx.pool(), x.numel(), 1 << 14, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) yp[i] = xp[i] ? 0 : 1;
  });
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_Not() {
  static const OpDef def{
      .name = "Not",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("unchanged from 1 to 21").Since(1),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
