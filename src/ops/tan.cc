// Tan: y = tan(x).
#include <cmath>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  return RunFloatUnary(ctx, [](float x) { return std::tan(x); });
}

}  // namespace

const OpDef& OpDef_Tan() {
  static const OpDef def{
      .name = "Tan",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = InferFloatUnary,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 7, unchanged to 21"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
