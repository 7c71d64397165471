// IsNaN: y = whether x is NaN (bool).
#include <cmath>

#include "ops/unary_common.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  return RunFloatPredicate(ctx, [](float x) { return std::isnan(x); });
}

}  // namespace

const OpDef& OpDef_IsNaN() {
  static const OpDef def{
      .name = "IsNaN",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = InferFloatPredicate,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 9; 13: bfloat16; 20: float8 types"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
