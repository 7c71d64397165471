// Squeeze: removes size-1 dims listed in `axes` (attribute before opset 13, input 1 from 13),
// or every size-1 dim when no axes are given. Shares the input buffer.
#include <algorithm>

#include "ops/op_upgrade.h"
#include "ops/op_util.h"

namespace dopt {
namespace {

// Output shape; `in` may hold unknown dims, which are assumed 1 when listed in axes.
StatusOr<Shape> Squeezed(const Node& node, const Shape& in, const std::vector<int64_t>& axes) {
  const int rank = (int)in.size();
  std::vector<bool> drop(rank, false);
  for (int64_t a : axes) {
    if (a < -rank || a >= rank) {
      return InvalidArgument(node.Describe() + ": axis " + std::to_string(a) + " is out of range for rank " +
                             std::to_string(rank));
    }
    int ax = (int)(a < 0 ? a + rank : a);
    if (in[ax] >= 0 && in[ax] != 1) {
      return InvalidArgument(node.Describe() + ": cannot squeeze dim " + std::to_string(ax) + " of size " +
                             std::to_string(in[ax]) + " (shape " + ShapeToString(in) + ")");
    }
    drop[ax] = true;
  }
  Shape out;
  for (int i = 0; i < rank; ++i)
    if (!drop[i]) out.push_back(in[i]);
  return out;
}

Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  const ValueInfo& x = ctx.input(0);
  std::vector<int64_t> axes;
  bool have_axes = false;
  if (ctx.has_input(1)) {
    DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kInt64}));
    if (!ctx.input(1).value) {
      ctx.SetOutputUnknownRank(0, x.dtype);
      return Status::Ok();
    }
    axes = ctx.input(1).value->ToInt64Vector();
    have_axes = true;
  } else if (node.HasAttr("axes")) {
    DOPT_ASSIGN_OR_RETURN(axes, node.GetInts("axes"));
    have_axes = true;
  }
  if (!x.rank_known) {
    ctx.SetOutputUnknownRank(0, x.dtype);
    return Status::Ok();
  }
  if (!have_axes) {
    Shape out;
    for (int64_t d : x.shape) {
      if (d < 0) {
        ctx.SetOutputUnknownRank(0, x.dtype);
        return Status::Ok();
      }
      if (d != 1) out.push_back(d);
    }
    ctx.SetOutput(0, x.dtype, out);
    return Status::Ok();
  }
  DOPT_ASSIGN_OR_RETURN(Shape out, Squeezed(node, x.shape, axes));
  ctx.SetOutput(0, x.dtype, out);
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  const Tensor& x = ctx.input(0);
  std::vector<int64_t> axes;
  bool have_axes = false;
  if (ctx.has_input(1)) {
    axes = ctx.input(1).ToInt64Vector();
    have_axes = true;
  } else if (node.HasAttr("axes")) {
    DOPT_ASSIGN_OR_RETURN(axes, node.GetInts("axes"));
    have_axes = true;
  }
  Shape out;
  if (!have_axes) {
    for (int64_t d : x.shape())
      if (d != 1) out.push_back(d);
  } else {
    DOPT_ASSIGN_OR_RETURN(out, Squeezed(node, x.shape(), axes));
  }
  ctx.SetOutput(0, x.Reshaped(out));
  return Status::Ok();
}

// Opset upgrade: 13 turns the axes attribute into optional input 1 (none: every size-1 dim, as
// before); 11: negative axes allowed; 21: types.
Status Upgrade(Graph& g, int ni, int from, int to) {
  return UpgradeAxesAttrToInput(g, ni, from, to, 13, AxesWhenAbsent::kKeep);
}

}  // namespace

const OpDef& OpDef_Squeeze() {
  static const OpDef def{
      .name = "Squeeze",
      .min_inputs = 1,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = UpgradeBy(Upgrade).Since(1),
      .quant = SharesInputScale(),  // moves elements
  };
  return def;
}

}  // namespace dopt
