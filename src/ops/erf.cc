// Erf: y = erf(x), the Gauss error function (kernels/vmath.h; std::erf when the reference kernels are forced).
#include <cmath>

#include "common/kernel_options.h"
#include "kernels/vmath.h"
#include "ops/op_util.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  if (!ReferenceKernelsForced()) return RunFloatUnaryArray(ctx, kernels::ErfArray);
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
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("introduced at 9; 13: types only"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
