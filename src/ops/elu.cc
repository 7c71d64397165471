// Elu: y = x for x >= 0, alpha * (exp(x) - 1) otherwise (alpha defaults to 1).
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
  return RunFloatUnary(ctx, [alpha](float x) { return x < 0.f ? alpha * std::expm1(x) : x; });
}

}  // namespace

const OpDef& OpDef_Elu() {
  static const OpDef def{
      .name = "Elu",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("6: consumed_inputs removed; unchanged from 6 to 21").Since(6),
      .quant = NoQuantRole(),  // the exponential side is not on the input's grid
  };
  return def;
}

}  // namespace dopt
