// Softmax: y = exp(x - max) / sum(exp(x - max)) along an axis; the axis semantics (2-D coercion
// before opset 13) and the opset 13 upgrade are shared with LogSoftmax and Hardmax
// (ops/softmax_family.h).
#include <algorithm>
#include <cmath>

#include "common/kernel_options.h"
#include "kernels/vmath.h"
#include "ops/softmax_family.h"

namespace dopt {
namespace {

void Lane(const float* xs, float* ys, int64_t n, int64_t stride) {
  float mx = -INFINITY;
  for (int64_t k = 0; k < n; ++k) mx = std::max(mx, xs[k * stride]);
  if (std::isinf(mx) && mx < 0) mx = 0;  // all -inf: avoid -inf - -inf
  double sum = 0;
  if (stride == 1 && !ReferenceKernelsForced()) {
    // Contiguous lane (the usual last-axis softmax): the vectorised exp (kernels/vmath.h).
    for (int64_t k = 0; k < n; ++k) ys[k] = xs[k] - mx;
    kernels::ExpArray(ys, ys, n);
    for (int64_t k = 0; k < n; ++k) sum += ys[k];
  } else {
    for (int64_t k = 0; k < n; ++k) {
      float v = std::exp(xs[k * stride] - mx);
      ys[k * stride] = v;
      sum += v;
    }
  }
  const float inv = (float)(1.0 / sum);
  for (int64_t k = 0; k < n; ++k) ys[k * stride] *= inv;
}

Status Run(KernelContext& ctx) { return RunSoftmaxFamily(ctx, Lane); }

}  // namespace

const OpDef& OpDef_Softmax() {
  static const OpDef def{
      .name = "Softmax",
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
