// Softmax: y = exp(x - max) / sum(exp(x - max)) along an axis; the axis semantics (2-D coercion
// before opset 13) and the opset 13 upgrade are shared with LogSoftmax and Hardmax
// (ops/softmax_family.h).
#include <algorithm>
#include <cmath>

#include "common/kernel_options.h"
#include "kernels/vmath.h"
#include "ops/op_util.h"
#include "ops/softmax_family.h"

namespace dopt {
namespace {

// One lane with std::exp: strided lanes (an axis other than the last) and the reference kernels.
void Lane(const float* xs, float* ys, int64_t n, int64_t stride) {
  float mx = -INFINITY;
  for (int64_t k = 0; k < n; ++k) mx = std::max(mx, xs[k * stride]);
  if (std::isinf(mx) && mx < 0) mx = 0;  // all -inf: avoid -inf - -inf
  double sum = 0;
  for (int64_t k = 0; k < n; ++k) {
    float v = std::exp(xs[k * stride] - mx);
    ys[k * stride] = v;
    sum += v;
  }
  const float inv = (float)(1.0 / sum);
  for (int64_t k = 0; k < n; ++k) ys[k * stride] *= inv;
}

// Contiguous lanes (the usual last-axis softmax): kernels::SoftmaxArray per lane (the exact max,
// exp(x - max) and its double sum in one vectorised pass, one float reciprocal).
void ContiguousLanes(const float* x, float* y, int64_t lanes, int64_t n) {
  for (int64_t l = 0; l < lanes; ++l) kernels::SoftmaxArray(x + l * n, y + l * n, n);
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (ReferenceKernelsForced() || x.dtype() != DType::kFloat32) return RunSoftmaxFamily(ctx, Lane);
  DOPT_ASSIGN_OR_RETURN(SoftmaxFamilyLayout l, GetSoftmaxFamilyLayout(ctx.node(), x.shape()));
  if (l.inner != 1) return RunSoftmaxFamily(ctx, Lane);
  Tensor& y = ctx.OutputUninitialized(0, DType::kFloat32, x.shape());  // every lane is written
  if (x.numel() == 0) return Status::Ok();
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  // Chunks of whole lanes; a lane's result does not depend on the chunk it falls in.
  ParallelForOrInline(ctx.pool(), l.outer, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, l.n)),
                      [&](int64_t b, int64_t e) { ContiguousLanes(xp + b * l.n, yp + b * l.n, e - b, l.n); });
  return Status::Ok();
}

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
