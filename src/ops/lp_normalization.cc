// LpNormalization: y = x / ||x||_p along `axis` (default -1), p = 1 (sum of |x|) or 2 (the
// Euclidean norm, the default). A lane whose norm is 0 gives 0 (as onnx.reference does), not NaN.
#include <cmath>

#include "ops/normalization_util.h"

namespace dopt {
namespace {

struct Layout {
  int64_t outer = 1, n = 1, inner = 1;
};

StatusOr<Layout> GetLayout(const Node& node, const Shape& shape) {
  DOPT_ASSIGN_OR_RETURN(int64_t p, node.GetInt("p", 2));
  if (p != 1 && p != 2) return InvalidArgument(node.Describe() + ": p must be 1 or 2, got " + std::to_string(p));
  DOPT_ASSIGN_OR_RETURN(int64_t axis, node.GetInt("axis", -1));
  const int rank = (int)shape.size();
  if (rank == 0) return InvalidArgument(node.Describe() + ": input must have rank >= 1");
  DOPT_ASSIGN_OR_RETURN(int a, NormalizeAxis(node, axis, rank));
  Layout l;
  for (int i = 0; i < a; ++i) l.outer *= shape[i];
  l.n = shape[a];
  for (int i = a + 1; i < rank; ++i) l.inner *= shape[i];
  return l;
}

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(InferFloatUnary(ctx));
  if (ctx.input(0).rank_known) DOPT_RETURN_IF_ERROR(GetLayout(ctx.node(), ctx.input(0).shape).status());
  else DOPT_RETURN_IF_ERROR(GetLayout(ctx.node(), Shape{1}).status());  // checks p
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckFloatInputs(ctx));
  const Tensor& x = ctx.input(0);
  DOPT_ASSIGN_OR_RETURN(Layout l, GetLayout(ctx.node(), x.shape()));
  DOPT_ASSIGN_OR_RETURN(int64_t p, ctx.node().GetInt("p", 2));
  Tensor& y = ctx.Output(0, DType::kFloat32, x.shape());
  if (x.numel() == 0) return Status::Ok();
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  ParallelForOrInline(ctx.pool(), l.outer * l.inner, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, l.n)),
                      [&](int64_t b, int64_t e) {
                        for (int64_t ln = b; ln < e; ++ln) {
                          const int64_t off = (ln / l.inner) * l.n * l.inner + ln % l.inner;
                          const float* xs = xp + off;
                          float* ys = yp + off;
                          double acc = 0;
                          for (int64_t i = 0; i < l.n; ++i) {
                            const double v = xs[i * l.inner];
                            acc += p == 1 ? std::fabs(v) : v * v;
                          }
                          const float norm = (float)(p == 1 ? acc : std::sqrt(acc));
                          for (int64_t i = 0; i < l.n; ++i) ys[i * l.inner] = norm == 0.f ? 0.f : xs[i * l.inner] / norm;
                        }
                      });
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_LpNormalization() {
  static const OpDef def{
      .name = "LpNormalization",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("versions 1 and 22 only: no change between 7 and 21").Since(1),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
