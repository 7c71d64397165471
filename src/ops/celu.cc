// Celu: y = max(0, x) + min(0, alpha * (exp(x / alpha) - 1)) (alpha defaults to 1).
#include <cmath>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(ctx.node().GetFloat("alpha", 1.0f).status());
  return InferFloatUnary(ctx);
}

Status Run(KernelContext& ctx) {
  DOPT_ASSIGN_OR_RETURN(float alpha, ctx.node().GetFloat("alpha", 1.0f));
  return RunFloatUnary(ctx, [alpha](float x) { return x > 0.f ? x : alpha * std::expm1(x / alpha); });
}

}  // namespace

const OpDef& OpDef_Celu() {
  static const OpDef def{
      .name = "Celu",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("introduced at 12, unchanged to 21"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
