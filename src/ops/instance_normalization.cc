// InstanceNormalization: each (n, c) slice of x (all spatial positions) is normalized with its
// own mean and variance, y = (x - mean) / sqrt(var + epsilon) * scale[c] + B[c].
#include <algorithm>
#include <cmath>
#include <utility>

#include "ops/normalization_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  for (int i = 0; i < 3; ++i) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, i, DOPT_NORM_FLOAT_TYPES));
  const ValueInfo& x = ctx.input(0);
  if (x.rank_known && x.shape.size() < 2)
    return InvalidArgument(node.Describe() + ": input X must have rank >= 2, got " + ShapeToString(x.shape));
  for (int i = 1; i < 3; ++i) {
    const ValueInfo& p = ctx.input(i);
    if (!p.rank_known) continue;
    if (p.shape.size() != 1 || (x.rank_known && x.shape[1] >= 0 && p.shape[0] >= 0 && p.shape[0] != x.shape[1]))
      return InvalidArgument(node.Describe() + ": input " + std::to_string(i) + " has shape " + ShapeToString(p.shape) +
                             ", expected [C] with C = X's dim 1");
  }
  return InferSameAsInput0(ctx);
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  DOPT_RETURN_IF_ERROR(CheckFloatInputs(ctx));
  DOPT_ASSIGN_OR_RETURN(float eps, node.GetFloat("epsilon", 1e-5f));
  const Tensor& x = ctx.input(0);
  if (x.rank() < 2) return InvalidArgument(node.Describe() + ": input X must have rank >= 2");
  const int64_t N = x.dim(0), C = x.dim(1);
  const int64_t inner = (N * C) != 0 ? x.numel() / (N * C) : 0;
  for (int i = 1; i < 3; ++i)
    if (ctx.input(i).rank() != 1 || ctx.input(i).numel() != C)
      return InvalidArgument(node.Describe() + ": input " + std::to_string(i) + " has shape " +
                             ShapeToString(ctx.input(i).shape()) + ", expected [" + std::to_string(C) + "]");
  const float* sc = ctx.input(1).data<float>();
  const float* bi = ctx.input(2).data<float>();
  const float* xp = x.data<float>();
  Tensor& y = ctx.OutputUninitialized(0, DType::kFloat32, x.shape());
  float* yp = y.data<float>();
  auto coef = [&](int64_t c, const GroupStats& st) {
    return std::pair<float, float>((float)st.mean, (float)(sc[c] / std::sqrt(st.var + (double)eps)));
  };
  const int threads = ctx.pool() ? ctx.pool()->num_threads() : 1;
  if (threads > 1 && N * C < 2 * threads && inner >= 2 * kernels::kMomentsChunk) {
    // Few large slices (GroupNorm exported as InstanceNormalization over [N, groups, -1]):
    // each slice's statistics and normalisation spread over the threads; the same bits.
    for (int64_t p = 0; p < N * C; ++p) {
      const float* xi = xp + p * inner;
      float* yi = yp + p * inner;
      const std::pair<float, float> ma = coef(p % C, kernels::ComputeMomentsParallel(xi, inner, ctx.pool()));
      const float mean = ma.first, a = ma.second;  // (clang 14 lambdas cannot capture structured bindings)
      const float b = bi[p % C];
      ctx.pool()->ParallelFor((inner + kernels::kMomentsChunk - 1) / kernels::kMomentsChunk, 1, [&](int64_t c0, int64_t c1) {
        const int64_t i0 = c0 * kernels::kMomentsChunk, i1 = std::min(inner, c1 * kernels::kMomentsChunk);
        kernels::NormalizeAffine(xi + i0, yi + i0, i1 - i0, mean, a, b);
      });
    }
    return Status::Ok();
  }
  ParallelForOrInline(ctx.pool(), N * C, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, inner)),
                      [&](int64_t p0, int64_t p1) {
                        for (int64_t p = p0; p < p1; ++p) {
                          const int64_t c = p % C;
                          const auto [mean, a] = coef(c, ComputeGroupStats(xp + p * inner, inner));
                          kernels::NormalizeAffine(xp + p * inner, yp + p * inner, inner, mean, a, bi[c]);
                        }
                      });
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_InstanceNormalization() {
  static const OpDef def{
      .name = "InstanceNormalization",
      .min_inputs = 3,
      .max_inputs = 3,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("versions 6 and 22 only: no change between 7 and 21").Since(6),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
