// Softsign: y = x / (1 + |x|).
#include <cmath>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  return RunFloatUnary(ctx, [](float x) { return x / (1.f + std::fabs(x)); });
}

}  // namespace

const OpDef& OpDef_Softsign() {
  static const OpDef def{
      .name = "Softsign",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = InferFloatUnary,
      .run = Run,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("unchanged from 1 to 21").Since(1),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
