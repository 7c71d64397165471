// Round: y = x rounded to the nearest integer, halves to even (numpy's round; nearbyint in the
// default rounding mode).
#include <cmath>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  return RunFloatUnary(ctx, [](float x) { return std::nearbyint(x); });
}

}  // namespace

const OpDef& OpDef_Round() {
  static const OpDef def{
      .name = "Round",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = InferFloatUnary,
      .run = Run,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("introduced at 11"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
