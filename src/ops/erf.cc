// Erf: y = erf(x), the Gauss error function.
#include <cmath>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  return RunFloatUnary(ctx, [](float x) { return std::erf(x); });
}

}  // namespace

const OpDef& OpDef_Erf() {
  static const OpDef def{
      .name = "Erf",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = InferFloatUnary,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 9; 13: types only"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
