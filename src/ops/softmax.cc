// Softmax: y = exp(x - max) / sum(exp(x - max)).
// Opset >= 13 normalises along `axis` (default -1). Opset < 13 coerces x to 2-D at `axis`
// (default 1), [prod(dims < axis), prod(dims >= axis)], and normalises each row of that view.
#include <algorithm>
#include <cmath>

#include "ops/op_util.h"

namespace dopt {
namespace {

struct Layout {
  int64_t outer = 1, n = 1, inner = 1;  // x viewed as [outer, n, inner], normalised over n
};

// Validates `axis` against `rank`; for known dims fills the layout.
StatusOr<Layout> GetLayout(const Node& node, const Shape& shape) {
  const bool old = node.opset_version > 0 && node.opset_version < 13;
  DOPT_ASSIGN_OR_RETURN(int64_t axis, node.GetInt("axis", old ? 1 : -1));
  const int rank = (int)shape.size();
  Layout l;
  int a;
  if (old && (axis == rank || (rank == 0 && axis == 0))) {
    a = rank;  // coerced to [N, 1]: every element becomes 1
  } else {
    DOPT_ASSIGN_OR_RETURN(a, NormalizeAxis(node, axis, rank));
    if (rank == 0) return InvalidArgument(node.Describe() + ": input must have rank >= 1");
  }
  for (int i = 0; i < a; ++i) l.outer *= shape[i];
  if (old) {
    for (int i = a; i < rank; ++i) l.n *= shape[i];
  } else {
    l.n = shape[a];
    for (int i = a + 1; i < rank; ++i) l.inner *= shape[i];
  }
  return l;
}

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(InferFloatUnary(ctx));
  if (ctx.input(0).rank_known) DOPT_RETURN_IF_ERROR(GetLayout(ctx.node(), ctx.input(0).shape).status());
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::kFloat32) return InvalidArgument(std::string("expected float input, got ") + DTypeName(x.dtype()));
  DOPT_ASSIGN_OR_RETURN(Layout l, GetLayout(ctx.node(), x.shape()));
  Tensor& y = ctx.Output(0, DType::kFloat32, x.shape());
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  const int64_t lanes = l.outer * l.inner;
  // Each lane (one softmax vector) is computed serially, so results do not depend on threads.
  ParallelForOrInline(ctx.pool(), lanes, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, l.n)),
                      [&](int64_t b, int64_t e) {
                        for (int64_t lane = b; lane < e; ++lane) {
                          const int64_t o = lane / l.inner, i = lane % l.inner;
                          const float* xs = xp + o * l.n * l.inner + i;
                          float* ys = yp + o * l.n * l.inner + i;
                          float mx = -INFINITY;
                          for (int64_t k = 0; k < l.n; ++k) mx = std::max(mx, xs[k * l.inner]);
                          if (std::isinf(mx) && mx < 0) mx = 0;  // all -inf: avoid -inf - -inf
                          double sum = 0;
                          for (int64_t k = 0; k < l.n; ++k) {
                            float v = std::exp(xs[k * l.inner] - mx);
                            ys[k * l.inner] = v;
                            sum += v;
                          }
                          const float inv = (float)(1.0 / sum);
                          for (int64_t k = 0; k < l.n; ++k) ys[k * l.inner] *= inv;
                        }
                      });
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_Softmax() {
  static const OpDef def{"Softmax", 1, 1, 1, 1, Infer, Run};
  return def;
}

}  // namespace dopt
