// Softplus: y = ln(1 + exp(x)), evaluated as max(x, 0) + log1p(exp(-|x|)) so that exp never
// overflows.
#include <cmath>

#include "ops/unary_common.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  return RunFloatUnary(ctx, [](float x) { return x != x ? x : SoftplusValue(x); });
}

}  // namespace

const OpDef& OpDef_Softplus() {
  static const OpDef def{
      .name = "Softplus",
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
