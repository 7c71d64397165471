// HardSwish: y = x * max(0, min(1, x / 6 + 0.5)), in AVX-512 / AVX2 clones (a division and a
// product: no contraction, the same bits on every ISA).
#include "kernels/clones.h"
#include "ops/op_util.h"

namespace dopt {

DOPT_KERNEL_CLONES_AVX512 void HardSwishArray(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    float g = x[i] / 6.f + 0.5f;
    g = g < 0.f ? 0.f : g;
    g = g > 1.f ? 1.f : g;
    y[i] = x[i] * g;
  }
}

namespace {

Status Run(KernelContext& ctx) { return RunFloatUnaryArray(ctx, HardSwishArray); }

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
