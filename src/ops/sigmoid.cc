// Sigmoid: y = 1 / (1 + exp(-x)): the vectorised kernels/vmath.h kernel, or with the reference
// kernels forced std::exp evaluated so that it never overflows.

#include "common/kernel_options.h"
#include "kernels/vmath.h"
#include "ops/op_util.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  if (!ReferenceKernelsForced()) return RunFloatUnaryArray(ctx, kernels::SigmoidArray);
  return RunFloatUnary(ctx, kernels::SigmoidReference);
}

bool Epilogue(const EpilogueQuery& q, kernels::EpilogueStep* s) { return UnaryEpilogue(q, s, kernels::EpilogueStep::kSigmoid); }

}  // namespace

const OpDef& OpDef_Sigmoid() {
  static const OpDef def{
      .name = "Sigmoid",
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
