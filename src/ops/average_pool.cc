// AveragePool: 1-3 spatial dims with kernel_shape, strides, pads, auto_pad, ceil_mode,
// count_include_pad and (opset 19) dilations.
#include "kernels/pool.h"
#include "ops/window_attrs.h"
#include "ops/op_util.h"

namespace dopt {
namespace {

struct Plan : PoolPlan {
  int64_t count_include_pad = 0;
};

StatusOr<Plan> MakePlan(const Node& node, const Shape& x) {
  Plan p;
  DOPT_ASSIGN_OR_RETURN(static_cast<PoolPlan&>(p), PlanPool(node, x));
  DOPT_ASSIGN_OR_RETURN(p.count_include_pad, node.GetInt("count_include_pad", 0));
  return p;
}

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  const ValueInfo& x = ctx.input(0);
  if (!x.rank_known) {
    ctx.SetOutputUnknownRank(0, x.dtype);
    return Status::Ok();
  }
  const bool nhwc = IsChannelsLast(ctx.node()) && x.shape.size() == 4;
  DOPT_ASSIGN_OR_RETURN(Plan p, MakePlan(ctx.node(), nhwc ? ToChannelsFirst(x.shape) : x.shape));
  ctx.SetOutput(0, x.dtype, nhwc ? ToChannelsLast(p.out_shape) : p.out_shape);
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::kFloat32) {
    return InvalidArgument(ctx.node().Describe() + ": expected float input, got " + DTypeName(x.dtype()));
  }
  const bool nhwc = IsChannelsLast(ctx.node());  // [N, H, W, C] (the channels_last pass)
  if (nhwc && x.rank() != 4) return InvalidArgument(ctx.node().Describe() + ": channels-last input must be 4-D");
  const Shape xs = nhwc ? ToChannelsFirst(x.shape()) : x.shape();
  DOPT_ASSIGN_OR_RETURN(Plan p, MakePlan(ctx.node(), xs));
  const kernels::PoolGeom g = PoolGeometry(p, xs, nhwc);
  Tensor& y = ctx.OutputUninitialized(0, DType::kFloat32, nhwc ? ToChannelsLast(p.out_shape) : p.out_shape);
  if (nhwc) {
    kernels::AveragePoolChannelsLast(g, xs[1], x.data<float>(), y.data<float>(), p.count_include_pad != 0, ctx.pool());
  } else {
    kernels::AveragePool(g, x.data<float>(), y.data<float>(), p.count_include_pad != 0, ctx.pool());
  }
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_AveragePool() {
  static const OpDef def{
      .name = "AveragePool",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .channels_last = KernelChannelsLast,  // a 4-D float X
      .upgrade = NoUpgradeNeeded("10: ceil_mode, 19: dilations, optional with the old defaults; 11: auto_pad/pads text "
                                 "only (ONNX's version converter: compatible)"),
      .quant = NoQuantRole(),  // averages round: int8 in, int8 out is not exact
  };
  return def;
}

}  // namespace dopt
