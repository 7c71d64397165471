// Log: y = ln(x) (NaN below 0, -inf at 0).
#include <cmath>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  return RunFloatUnary(ctx, [](float x) { return std::log(x); });
}

}  // namespace

const OpDef& OpDef_Log() {
  static const OpDef def{
      .name = "Log",
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
