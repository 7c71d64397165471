// HardSwish: y = x * max(0, min(1, x / 6 + 0.5)).
#include "ops/op_util.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  return RunFloatUnary(ctx, [](float x) {
    float g = x / 6.f + 0.5f;
    g = g < 0.f ? 0.f : g;
    g = g > 1.f ? 1.f : g;
    return x * g;
  });
}

bool Epilogue(const EpilogueQuery& q, kernels::EpilogueStep* s) { return UnaryEpilogue(q, s, kernels::EpilogueStep::kHardSwish); }

}  // namespace

const OpDef& OpDef_HardSwish() {
  static const OpDef def{
      .name = "HardSwish",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = InferFloatUnary,
      .run = Run,
      .epilogue = Epilogue,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("introduced at 14, unchanged to 21 (22: types)"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
