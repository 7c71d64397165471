// MaxPool: 1-3 spatial dims with kernel_shape, strides, pads, auto_pad, dilations, ceil_mode
// and storage_order; optional Indices output (int64, flat index into X).
#include "kernels/pool.h"
#include "ops/window_attrs.h"
#include "ops/op_util.h"

namespace dopt {
namespace {

struct Plan : PoolPlan {
  int64_t storage_order = 0;
};

StatusOr<Plan> MakePlan(const Node& node, const Shape& x) {
  Plan p;
  DOPT_ASSIGN_OR_RETURN(static_cast<PoolPlan&>(p), PlanPool(node, x));
  DOPT_ASSIGN_OR_RETURN(p.storage_order, node.GetInt("storage_order", 0));
  return p;
}

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kInt8,
                                               DType::kUInt8}));
  const ValueInfo& x = ctx.input(0);
  if (!x.rank_known) {
    for (int o = 0; o < ctx.num_outputs(); ++o) ctx.SetOutputUnknownRank(o, o == 0 ? x.dtype : DType::kInt64);
    return Status::Ok();
  }
  const bool nhwc = IsChannelsLast(ctx.node()) && x.shape.size() == 4;
  DOPT_ASSIGN_OR_RETURN(Plan p, MakePlan(ctx.node(), nhwc ? ToChannelsFirst(x.shape) : x.shape));
  const Shape out = nhwc ? ToChannelsLast(p.out_shape) : p.out_shape;
  ctx.SetOutput(0, x.dtype, out);
  if (ctx.num_outputs() > 1) ctx.SetOutput(1, DType::kInt64, out);
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const bool nhwc = IsChannelsLast(ctx.node());  // [N, H, W, C], float, no Indices (the channels_last pass)
  if (nhwc && (x.rank() != 4 || x.dtype() != DType::kFloat32 || ctx.num_outputs() != 1)) {
    return InvalidArgument(ctx.node().Describe() + ": channels-last MaxPool needs one 4-D float input and output");
  }
  const Shape xs = nhwc ? ToChannelsFirst(x.shape()) : x.shape();
  DOPT_ASSIGN_OR_RETURN(Plan p, MakePlan(ctx.node(), xs));
  const kernels::PoolGeom g = PoolGeometry(p, xs, nhwc);
  const Shape out = nhwc ? ToChannelsLast(p.out_shape) : p.out_shape;
  Tensor& y = ctx.OutputUninitialized(0, x.dtype(), out);
  if (nhwc) {
    kernels::MaxPoolChannelsLast(g, xs[1], x.data<float>(), y.data<float>(), ctx.pool());
    return Status::Ok();
  }
  int64_t* idx = nullptr;
  if (ctx.num_outputs() > 1) idx = ctx.Output(1, DType::kInt64, out).data<int64_t>();
  const bool col_major = p.storage_order != 0;
  switch (x.dtype()) {
    case DType::kFloat32:
      kernels::MaxPool<float>(g, x.data<float>(), y.data<float>(), idx, col_major, ctx.pool());
      break;
    case DType::kInt8:
      kernels::MaxPool<int8_t>(g, x.data<int8_t>(), y.data<int8_t>(), idx, col_major, ctx.pool());
      break;
    case DType::kUInt8:
      kernels::MaxPool<uint8_t>(g, x.data<uint8_t>(), y.data<uint8_t>(), idx, col_major, ctx.pool());
      break;
    default:
      return InvalidArgument(ctx.node().Describe() + ": unsupported input type " + DTypeName(x.dtype()));
  }
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_MaxPool() {
  static const OpDef def{
      .name = "MaxPool",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 2,
      .infer = Infer,
      .run = Run,
      .channels_last = KernelChannelsLast,  // a 4-D float X (MaxPool: and no Indices output)
      .upgrade = NoUpgradeNeeded("8: optional Indices output, storage_order (default 0); 10: ceil_mode, dilations (old "
                                 "defaults); 11: pads text only; 12: int8/uint8").Since(1),
      .quant = SharesInputScale(),  // the max of each window (dequantization is increasing); Indices are int64
  };
  return def;
}

}  // namespace dopt
