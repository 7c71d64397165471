// Round: y = x rounded to the nearest integer, halves to even (numpy's round; nearbyint in the
// default rounding mode).
#include <cmath>

#include "kernels/clones.h"
#include "ops/op_util.h"

namespace dopt {

// In AVX-512 / AVX2 clones: one rounding instruction per vector (SSE4.1's roundps) instead of a
// library call per element at the baseline ISA.
DOPT_KERNEL_CLONES_AVX512 void RoundArray(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::nearbyint(x[i]);
}

namespace {

Status Run(KernelContext& ctx) {
  return RunFloatUnaryArray(ctx, RoundArray);
}

}  // namespace

const OpDef& OpDef_Round() {
  static const OpDef def{
      .name = "Round",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = InferFloatUnary,
      .run = Run,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("introduced at 11"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
