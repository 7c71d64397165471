// LogSoftmax: y = x - max - log(sum(exp(x - max))) along an axis; the axis semantics (2-D
// coercion before opset 13) and the upgrade are Softmax's (ops/softmax_family.h).
#include <algorithm>
#include <cmath>

#include "ops/softmax_family.h"

namespace dopt {
namespace {

void Lane(const float* xs, float* ys, int64_t n, int64_t stride) {
  float mx = -INFINITY;
  for (int64_t k = 0; k < n; ++k) mx = std::max(mx, xs[k * stride]);
  if (std::isinf(mx)) mx = 0;  // all -inf (or some +inf): avoid inf - inf in the shift
  double sum = 0;
  for (int64_t k = 0; k < n; ++k) sum += std::exp((double)xs[k * stride] - mx);
  const double shift = mx + std::log(sum);
  for (int64_t k = 0; k < n; ++k) ys[k * stride] = (float)(xs[k * stride] - shift);
}

Status Run(KernelContext& ctx) { return RunSoftmaxFamily(ctx, Lane); }

}  // namespace

const OpDef& OpDef_LogSoftmax() {
  static const OpDef def{
      .name = "LogSoftmax",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = InferSoftmaxFamily,
      .run = Run,
      .upgrade = UpgradeBy(UpgradeSoftmaxFamily).Since(1),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
