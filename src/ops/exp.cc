// Exp: y = exp(x).
#include <cmath>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  return RunFloatUnary(ctx, [](float x) { return std::exp(x); });
}

}  // namespace

const OpDef& OpDef_Exp() {
  static const OpDef def{
      .name = "Exp",
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
