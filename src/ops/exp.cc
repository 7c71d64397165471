// Exp: y = exp(x) (kernels/vmath.h; std::exp when the reference kernels are forced).
#include <cmath>

#include "common/kernel_options.h"
#include "kernels/vmath.h"
#include "ops/op_util.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  if (!ReferenceKernelsForced()) return RunFloatUnaryArray(ctx, kernels::ExpArray);
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
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("13: types only").Since(6),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
