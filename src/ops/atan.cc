// Atan: y = arctan(x).
#include <cmath>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  return RunFloatUnary(ctx, [](float x) { return std::atan(x); });
}

}  // namespace

const OpDef& OpDef_Atan() {
  static const OpDef def{
      .name = "Atan",
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
