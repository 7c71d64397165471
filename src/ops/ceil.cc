// Ceil: y = ceil(x), the smallest integer not less than x (NaN and infinities pass through).
#include <cmath>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  return RunFloatUnary(ctx, [](float x) { return std::ceil(x); });
}

}  // namespace

const OpDef& OpDef_Ceil() {
  static const OpDef def{
      .name = "Ceil",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = InferFloatUnary,
      .run = Run,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("6: consumed_inputs removed; 13: bfloat16").Since(6),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
