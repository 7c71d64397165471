// Tanh: y = tanh(x) (kernels/vmath.h; std::tanh when the reference kernels are forced).
#include <cmath>

#include "common/kernel_options.h"
#include "kernels/vmath.h"
#include "ops/op_util.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  if (!ReferenceKernelsForced()) return RunFloatUnaryArray(ctx, kernels::TanhArray);
  return RunFloatUnary(ctx, [](float x) { return std::tanh(x); });
}

bool Epilogue(const EpilogueQuery& q, kernels::EpilogueStep* s) { return UnaryEpilogue(q, s, kernels::EpilogueStep::kTanh); }

}  // namespace

const OpDef& OpDef_Tanh() {
  static const OpDef def{
      .name = "Tanh",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = InferFloatUnary,
      .run = Run,
      .epilogue = Epilogue,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("13: types only").Since(6),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
