// Flatten: reshapes to 2-D [prod(dims[:axis]), prod(dims[axis:])]; shares the input buffer.
#include "ops/op_util.h"

namespace dopt {
namespace {

StatusOr<int> GetAxis(const Node& node, int rank) {
  DOPT_ASSIGN_OR_RETURN(int64_t axis, node.GetInt("axis", 1));
  if (axis < -rank || axis > rank) {
    return InvalidArgument(node.Describe() + ": axis " + std::to_string(axis) + " is out of range for rank " +
                           std::to_string(rank));
  }
  return (int)(axis < 0 ? axis + rank : axis);
}

// Product of dims [b, e); -1 when any is unknown.
int64_t Prod(const Shape& s, int b, int e) {
  int64_t p = 1;
  for (int i = b; i < e; ++i) {
    if (s[i] < 0) return -1;
    p *= s[i];
  }
  return p;
}

Status Infer(InferContext& ctx) {
  const ValueInfo& x = ctx.input(0);
  if (!x.rank_known) {
    ctx.SetOutput(0, x.dtype, {-1, -1});
    return Status::Ok();
  }
  int rank = (int)x.shape.size();
  DOPT_ASSIGN_OR_RETURN(int axis, GetAxis(ctx.node(), rank));
  ctx.SetOutput(0, x.dtype, {Prod(x.shape, 0, axis), Prod(x.shape, axis, rank)});
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  DOPT_ASSIGN_OR_RETURN(int axis, GetAxis(ctx.node(), x.rank()));
  ctx.SetOutput(0, x.Reshaped({Prod(x.shape(), 0, axis), Prod(x.shape(), axis, x.rank())}));
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_Flatten() {
  static const OpDef def{
      .name = "Flatten",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("9, 13, 21: types; 11: negative axis allowed").Since(1),
      .quant = SharesInputScale(),  // moves elements
  };
  return def;
}

}  // namespace dopt
