// Sinh: y = sinh(x).
#include <cmath>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  return RunFloatUnary(ctx, [](float x) { return std::sinh(x); });
}

}  // namespace

const OpDef& OpDef_Sinh() {
  static const OpDef def{
      .name = "Sinh",
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
