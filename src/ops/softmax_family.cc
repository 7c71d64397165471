#include "ops/softmax_family.h"

#include <algorithm>
#include <string>

#include "ir/graph_edit.h"
#include "ops/op_upgrade.h"
#include "ops/op_util.h"

namespace dopt {

StatusOr<SoftmaxFamilyLayout> GetSoftmaxFamilyLayout(const Node& node, const Shape& shape) {
  const bool old = node.opset_version > 0 && node.opset_version < 13;
  DOPT_ASSIGN_OR_RETURN(int64_t axis, node.GetInt("axis", old ? 1 : -1));
  const int rank = (int)shape.size();
  SoftmaxFamilyLayout l;
  int a;
  if (old && (axis == rank || (rank == 0 && axis == 0))) {
    a = rank;  // coerced to [N, 1]
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

Status InferSoftmaxFamily(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(InferFloatUnary(ctx));
  if (ctx.input(0).rank_known) DOPT_RETURN_IF_ERROR(GetSoftmaxFamilyLayout(ctx.node(), ctx.input(0).shape).status());
  return Status::Ok();
}

Status RunSoftmaxFamily(KernelContext& ctx, void (*lane)(const float* xs, float* ys, int64_t n, int64_t stride)) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::kFloat32) return InvalidArgument(std::string("expected float input, got ") + DTypeName(x.dtype()));
  DOPT_ASSIGN_OR_RETURN(SoftmaxFamilyLayout l, GetSoftmaxFamilyLayout(ctx.node(), x.shape()));
  Tensor& y = ctx.Output(0, DType::kFloat32, x.shape());
  if (x.numel() == 0) return Status::Ok();
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  ParallelForOrInline(ctx.pool(), l.outer * l.inner, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, l.n)),
                      [&](int64_t b, int64_t e) {
                        for (int64_t ln = b; ln < e; ++ln) {
                          const int64_t off = (ln / l.inner) * l.n * l.inner + ln % l.inner;
                          lane(xp + off, yp + off, l.n, l.inner);
                        }
                      });
  return Status::Ok();
}

Status UpgradeSoftmaxFamily(Graph& g, int ni, int from, int to) {
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
  int two_d = AddIntermediate(g, base + "_2d");
  int shape = AddIntermediate(g, base + "_shape");
  {
    Node& op = g.nodes[ni];
    op.inputs[0] = flat;
    op.outputs[0] = two_d;
    SetAttr(op, "axis", IntAttr(1));
  }
  AddUniqueNode(g, MakeNode("Flatten", base + "_flatten", {x_id}, {flat}, {{"axis", IntAttr(axis)}}, to));
  AddUniqueNode(g, MakeNode("Shape", base + "_input_shape", {x_id}, {shape}, {}, to));
  AddUniqueNode(g, MakeNode("Reshape", base + "_reshape", {two_d, shape}, {y_id}, {}, to));
  g.values[two_d].producer = ni;  // AddNode set the producer of y to the Reshape
  return Status::Ok();
}

}  // namespace dopt
