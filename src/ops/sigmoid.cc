// Sigmoid: y = 1 / (1 + exp(-x)), evaluated so that exp never overflows.
#include <cmath>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  return RunFloatUnary(ctx, [](float x) {
    if (x >= 0.f) return 1.f / (1.f + std::exp(-x));
    float e = std::exp(x);
    return e / (1.f + e);
  });
}

}  // namespace

const OpDef& OpDef_Sigmoid() {
  static const OpDef def{
      .name = "Sigmoid",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = InferFloatUnary,
      .run = Run,
      .upgrade = NoUpgradeNeeded("13: types only").Since(6),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
