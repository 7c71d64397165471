// Sqrt: y = sqrt(x) (NaN for x < 0): the correctly rounded square root, vectorised (AVX-512 /
// AVX2 clones; the file builds with -fno-math-errno: errno's check for negative inputs kept GCC to
// a library call per element, 20x slower on half-negative data).
#include <cmath>

#include "kernels/clones.h"
#include "ops/op_util.h"

namespace dopt {

DOPT_KERNEL_CLONES_AVX512 void SqrtArray(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::sqrt(x[i]);
}

namespace {

Status Run(KernelContext& ctx) { return RunFloatUnaryArray(ctx, SqrtArray); }

}  // namespace

const OpDef& OpDef_Sqrt() {
  static const OpDef def{
      .name = "Sqrt",
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
