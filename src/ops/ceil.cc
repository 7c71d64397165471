// Ceil: y = ceil(x), the smallest integer not less than x (NaN and infinities pass through).
#include <cmath>

#include "kernels/clones.h"
#include "ops/op_util.h"

namespace dopt {

// In AVX-512 / AVX2 clones: one rounding instruction per vector (SSE4.1's roundps) instead of a
// library call per element at the baseline ISA.
DOPT_KERNEL_CLONES_AVX512 void CeilArray(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::ceil(x[i]);
}

namespace {

Status Run(KernelContext& ctx) {
  return RunFloatUnaryArray(ctx, CeilArray);
}

}  // namespace

const OpDef& OpDef_Ceil() {
  static const OpDef def{
      .name = "Ceil",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = InferFloatUnary,
      .run = Run,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("6: consumed_inputs removed; 13: bfloat16").Since(6),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
