// Softmax: y = exp(x - max) / sum(exp(x - max)).
// Opset >= 13 normalises along `axis` (default -1). Opset < 13 coerces x to 2-D at `axis`
// (default 1), [prod(dims < axis), prod(dims >= axis)], and normalises each row of that view.
#include <algorithm>
#include <cmath>

#include "ir/graph_edit.h"
#include "ops/op_upgrade.h"
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

// Opset upgrade: Softmax < 13 coerces the input to 2-D at `axis` (default 1) and normalises
// each row; 13 normalises along `axis` (default -1). Same thing when the dims after axis are
// all 1 (or axis is the last one); otherwise Flatten(axis) -> Softmax(axis=1) ->
// Reshape(to Shape(x)) is exact. 11: negative axis allowed.
Status Upgrade(Graph& g, int ni, int from, int to) {
  if (!OpsetCrosses(from, to, 13)) return Status::Ok();
  Node& n = g.nodes[ni];
  DOPT_RETURN_IF_ERROR(NeedUpgradeInputs(n, 1));
  DOPT_ASSIGN_OR_RETURN(int64_t axis, n.GetInt("axis", 1));
  n.dirty = true;
  const Value& x = g.value(n.inputs[0]);
  if (x.rank_known) {
    int64_t r = (int64_t)x.shape.size();
    if (axis < -r || axis >= std::max<int64_t>(r, 1))
      return InvalidArgument(n.Describe() + ": axis " + std::to_string(axis) + " is out of range for rank " +
                             std::to_string(r));
    int64_t a = axis < 0 ? axis + r : axis;
    // Dims after `axis` all 1 (e.g. N,C,1,1 at axis 1): the flattened rows are that axis.
    bool trailing_ones = true;
    for (int64_t d = a + 1; d < r; ++d) trailing_ones = trailing_ones && x.shape[d] == 1;
    if (trailing_ones || r == 0) {
      SetAttr(n, "axis", IntAttr(axis));  // explicit: the default changed from 1 to -1
      return Status::Ok();
    }
  }
  // General case (or unknown rank).
  const std::string base = n.name;
  int x_id = n.inputs[0];
  int y_id = n.outputs[0];
  int flat = AddIntermediate(g, base + "_flat");
  int soft = AddIntermediate(g, base + "_2d");
  int shape = AddIntermediate(g, base + "_shape");
  {
    Node& sm = g.nodes[ni];
    sm.inputs[0] = flat;
    sm.outputs[0] = soft;
    SetAttr(sm, "axis", IntAttr(1));
  }
  AddUniqueNode(g, MakeNode("Flatten", base + "_flatten", {x_id}, {flat}, {{"axis", IntAttr(axis)}}, to));
  AddUniqueNode(g, MakeNode("Shape", base + "_input_shape", {x_id}, {shape}, {}, to));
  AddUniqueNode(g, MakeNode("Reshape", base + "_reshape", {soft, shape}, {y_id}, {}, to));
  g.values[soft].producer = ni;  // AddNode set the producer of y to the Reshape
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
      .infer = Infer,
      .run = Run,
      .upgrade = UpgradeBy(Upgrade),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
