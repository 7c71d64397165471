// Hardmax: y = 1 at the first maximum along an axis, 0 elsewhere; the axis semantics (2-D
// coercion before opset 13) and the upgrade are Softmax's (ops/softmax_family.h).
#include <cmath>

#include "ops/softmax_family.h"

namespace dopt {
namespace {

// y is zeroed. The first maximum, as numpy's argmax (ONNX's reference): a NaN counts as the
// maximum, so the first NaN wins.
void Lane(const float* xs, float* ys, int64_t n, int64_t stride) {
  if (n == 0) return;
  int64_t best = 0;
  for (int64_t k = 1; k < n && !std::isnan(xs[best * stride]); ++k)
    if (std::isnan(xs[k * stride]) || xs[k * stride] > xs[best * stride]) best = k;
  ys[best * stride] = 1.f;
}

Status Run(KernelContext& ctx) { return RunSoftmaxFamily(ctx, Lane); }

}  // namespace

const OpDef& OpDef_Hardmax() {
  static const OpDef def{
      .name = "Hardmax",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = InferSoftmaxFamily,
      .run = Run,
      .upgrade = UpgradeBy(UpgradeSoftmaxFamily).Since(1),
      .quant = NoQuantRole(),  // one-hot output
  };
  return def;
}

}  // namespace dopt
