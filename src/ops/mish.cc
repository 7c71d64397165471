// Mish: y = x * tanh(softplus(x)) = x * tanh(ln(1 + exp(x))).
#include <cmath>

#include "ops/unary_common.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  return RunFloatUnary(ctx, [](float x) { return x * std::tanh(SoftplusValue(x)); });
}

}  // namespace

const OpDef& OpDef_Mish() {
  static const OpDef def{
      .name = "Mish",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = InferFloatUnary,
      .run = Run,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("introduced at 18, unchanged to 21"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
