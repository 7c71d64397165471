// Selu: y = gamma * x for x > 0, gamma * alpha * (exp(x) - 1) otherwise (alpha defaults to
// 1.67326..., gamma to 1.05070...).
#include <cmath>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(ctx.node().GetFloat("alpha", 1.67326319217681884765625f).status());
  DOPT_RETURN_IF_ERROR(ctx.node().GetFloat("gamma", 1.05070102214813232421875f).status());
  return InferFloatUnary(ctx);
}

Status Run(KernelContext& ctx) {
  DOPT_ASSIGN_OR_RETURN(float alpha, ctx.node().GetFloat("alpha", 1.67326319217681884765625f));
  DOPT_ASSIGN_OR_RETURN(float gamma, ctx.node().GetFloat("gamma", 1.05070102214813232421875f));
  return RunFloatUnary(ctx, [alpha, gamma](float x) { return x > 0.f ? gamma * x : gamma * (alpha * std::expm1(x)); });
}

}  // namespace

const OpDef& OpDef_Selu() {
  static const OpDef def{
      .name = "Selu",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("6: consumed_inputs removed; unchanged from 6 to 21").Since(6),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
