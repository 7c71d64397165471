// Identity: y = x, sharing x's buffer (no copy). Any tensor dtype.
#include "ops/op_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  if (ctx.input(0).dtype == DType::kString) {
    return InvalidArgument(ctx.node().Describe() + ": string tensors are not supported");
  }
  return InferSameAsInput0(ctx);
}

Status Run(KernelContext& ctx) {
  ctx.SetOutput(0, ctx.input(0));
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_Identity() {
  static const OpDef def{
      .name = "Identity",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("13, 14, 16, 19, 21: types only (sequences, optionals, float8, int4)").Since(1),
      .quant = SharesInputScale(),
  };
  return def;
}

}  // namespace dopt
