// Acosh: y = arcosh(x) (NaN below 1).
#include <cmath>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  return RunFloatUnary(ctx, [](float x) { return std::acosh(x); });
}

}  // namespace

const OpDef& OpDef_Acosh() {
  static const OpDef def{
      .name = "Acosh",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = InferFloatUnary,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 9, unchanged to 21"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
