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

// Strided lanes (an axis other than the last, e.g. classes of an NCHW map): a block of up to
// kCols neighbouring lanes at a time, walked along the axis row by row so that every step is
// contiguous: per lane the max, exp(x - max) by the vectorised exp (kernels::ExpArray) and the
// double sum in axis order, one float reciprocal.
void StridedLanes(const float* x, float* y, int64_t n, int64_t inner, int64_t c0, int64_t c1) {
  constexpr int64_t kCols = 512;
  float mx[kCols], tmp[kCols], inv[kCols];
  double sum[kCols];
  for (int64_t j0 = c0; j0 < c1; j0 += kCols) {
    const int64_t m = std::min(kCols, c1 - j0);
    for (int64_t j = 0; j < m; ++j) mx[j] = -INFINITY;
    for (int64_t k = 0; k < n; ++k) {
      const float* r = x + k * inner + j0;
      for (int64_t j = 0; j < m; ++j) mx[j] = std::max(mx[j], r[j]);  // NaN ignored, as Lane
    }
    for (int64_t j = 0; j < m; ++j) {
      if (std::isinf(mx[j]) && mx[j] < 0) mx[j] = 0;  // all -inf: avoid -inf - -inf
      sum[j] = 0;
    }
    for (int64_t k = 0; k < n; ++k) {
      const float* r = x + k * inner + j0;
      float* o = y + k * inner + j0;
      for (int64_t j = 0; j < m; ++j) tmp[j] = r[j] - mx[j];
      kernels::ExpArray(tmp, o, m);
      for (int64_t j = 0; j < m; ++j) sum[j] += o[j];
    }
    for (int64_t j = 0; j < m; ++j) inv[j] = (float)(1.0 / sum[j]);
    for (int64_t k = 0; k < n; ++k) {
      float* o = y + k * inner + j0;
      for (int64_t j = 0; j < m; ++j) o[j] *= inv[j];
    }
  }
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (ReferenceKernelsForced() || x.dtype() != DType::kFloat32) return RunSoftmaxFamily(ctx, Lane);
  DOPT_ASSIGN_OR_RETURN(SoftmaxFamilyLayout l, GetSoftmaxFamilyLayout(ctx.node(), x.shape()));
  if (l.inner != 1) {
    Tensor& y = ctx.OutputUninitialized(0, DType::kFloat32, x.shape());  // every lane is written
    if (x.numel() == 0) return Status::Ok();
    const float* xp = x.data<float>();
    float* yp = y.data<float>();
    // Tasks of (outer, block of 512 lanes); a lane's result does not depend on its task.
    const int64_t blocks = (l.inner + 511) / 512;
    ParallelForOrInline(ctx.pool(), l.outer * blocks, 1, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        const int64_t o = t / blocks, c0 = t % blocks * 512;
        StridedLanes(xp + o * l.n * l.inner, yp + o * l.n * l.inner, l.n, l.inner, c0, std::min(l.inner, c0 + 512));
      }
    });
    return Status::Ok();
  }
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
