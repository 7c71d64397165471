// LRN (local response normalization across channels), x [N, C, ...]:
//   y[n, c, i] = x[n, c, i] / (bias + alpha / size * sum_{c'} x[n, c', i]^2)^beta,
// c' over [c - floor((size - 1) / 2), c + ceil((size - 1) / 2)] clipped to [0, C).
#include <cmath>

#include "ops/normalization_util.h"

namespace dopt {
namespace {

struct Params {
  int64_t size = 0;
  float alpha = 0, beta = 0, bias = 0;
};

StatusOr<Params> GetParams(const Node& node) {
  Params p;
  if (!node.HasAttr("size")) return InvalidArgument(node.Describe() + ": attribute size is required");
  DOPT_ASSIGN_OR_RETURN(p.size, node.GetInt("size", 0));
  if (p.size <= 0) return InvalidArgument(node.Describe() + ": size must be positive, got " + std::to_string(p.size));
  DOPT_ASSIGN_OR_RETURN(p.alpha, node.GetFloat("alpha", 1e-4f));
  DOPT_ASSIGN_OR_RETURN(p.beta, node.GetFloat("beta", 0.75f));
  DOPT_ASSIGN_OR_RETURN(p.bias, node.GetFloat("bias", 1.f));
  return p;
}

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(GetParams(ctx.node()).status());
  DOPT_RETURN_IF_ERROR(InferFloatUnary(ctx));
  const ValueInfo& x = ctx.input(0);
  if (x.rank_known && x.shape.size() < 2)
    return InvalidArgument(ctx.node().Describe() + ": input X must have rank >= 2, got " + ShapeToString(x.shape));
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  DOPT_ASSIGN_OR_RETURN(Params p, GetParams(ctx.node()));
  DOPT_RETURN_IF_ERROR(CheckFloatInputs(ctx));
  const Tensor& x = ctx.input(0);
  if (x.rank() < 2) return InvalidArgument(ctx.node().Describe() + ": input X must have rank >= 2");
  const int64_t N = x.dim(0), C = x.dim(1);
  const int64_t inner = (N * C) != 0 ? x.numel() / (N * C) : 0;
  const int64_t before = (p.size - 1) / 2, after = p.size / 2;  // floor and ceil of (size - 1) / 2
  const double scale = (double)p.alpha / (double)p.size;
  const float* xp = x.data<float>();
  Tensor& y = ctx.OutputUninitialized(0, DType::kFloat32, x.shape());
  float* yp = y.data<float>();
  ParallelForOrInline(ctx.pool(), N * C, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, inner * p.size)),
                      [&](int64_t b, int64_t e) {
                        for (int64_t nc = b; nc < e; ++nc) {
                          const int64_t n = nc / C, c = nc % C;
                          const int64_t c0 = std::max<int64_t>(0, c - before), c1 = std::min<int64_t>(C - 1, c + after);
                          const float* xn = xp + n * C * inner;
                          for (int64_t i = 0; i < inner; ++i) {
                            double sum = 0;
                            for (int64_t k = c0; k <= c1; ++k) {
                              const double v = xn[k * inner + i];
                              sum += v * v;
                            }
                            yp[nc * inner + i] =
                                (float)(xn[c * inner + i] / std::pow((double)p.bias + scale * sum, (double)p.beta));
                          }
                        }
                      });
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_LRN() {
  static const OpDef def{
      .name = "LRN",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("13: bfloat16").Since(1),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
