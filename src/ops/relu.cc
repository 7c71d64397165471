// Relu: y = max(x, 0).
#include "ops/op_util.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  return RunFloatUnary(ctx, [](float x) { return x > 0.f ? x : 0.f; });
}

bool Epilogue(const EpilogueQuery& q, kernels::EpilogueStep* s) { return UnaryEpilogue(q, s, kernels::EpilogueStep::kRelu); }

}  // namespace

const OpDef& OpDef_Relu() {
  static const OpDef def{
      .name = "Relu",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = InferFloatUnary,
      .run = Run,
      .epilogue = Epilogue,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("13, 14: types only").Since(6),
      .quant = SharesInputScale(),  // max(q, zero point) dequantizes to max(x, 0) exactly
  };
  return def;
}

}  // namespace dopt
