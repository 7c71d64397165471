// PRelu: y = x for x >= 0, slope * x otherwise. slope broadcasts to x unidirectionally
// (numpy rules, output shape = x's shape). Older models give a per-channel slope of shape
// [C] for x of shape [N, C, ...]: for opset < 7, or when [C] does not broadcast numpy-style,
// such a slope applies along dim 1.
#include "ops/op_util.h"

namespace dopt {
namespace {

// The slope shape to broadcast against x (per-channel [C] becomes [C, 1, ..., 1]).
StatusOr<Shape> SlopeShape(const Node& node, const Shape& x, const Shape& slope) {
  const int xr = (int)x.size();
  const bool channel_candidate = slope.size() == 1 && xr >= 2 && slope[0] > 1 && slope[0] == x[1];
  bool numpy_ok = slope.size() <= x.size();
  for (size_t i = 0; numpy_ok && i < slope.size(); ++i) {
    int64_t s = slope[slope.size() - 1 - i], d = x[x.size() - 1 - i];
    if (!(s == 1 || s == d || s < 0 || d < 0)) numpy_ok = false;
  }
  if (channel_candidate && ((node.opset_version > 0 && node.opset_version < 7) || !numpy_ok)) {
    Shape s(xr - 1, 1);
    s[0] = slope[0];
    return s;
  }
  if (!numpy_ok) {
    return InvalidArgument(node.Describe() + ": slope shape " + ShapeToString(slope) + " does not broadcast to input shape " +
                           ShapeToString(x));
  }
  return slope;
}

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  const ValueInfo& x = ctx.input(0);
  const ValueInfo& s = ctx.input(1);
  if (x.rank_known && s.rank_known) DOPT_RETURN_IF_ERROR(SlopeShape(ctx.node(), x.shape, s.shape).status());
  return InferSameAsInput0(ctx);
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& slope = ctx.input(1);
  if (x.dtype() != DType::kFloat32 || slope.dtype() != DType::kFloat32) {
    return InvalidArgument(std::string("expected float inputs, got ") + DTypeName(x.dtype()) + " and " +
                           DTypeName(slope.dtype()));
  }
  DOPT_ASSIGN_OR_RETURN(Shape ss, SlopeShape(ctx.node(), x.shape(), slope.shape()));
  DOPT_ASSIGN_OR_RETURN(BroadcastPlan plan, PlanBroadcast(ctx.node(), x.shape(), ss));
  if (plan.out_shape != x.shape()) {
    return InvalidArgument("slope shape " + ShapeToString(slope.shape()) + " does not broadcast to input shape " +
                           ShapeToString(x.shape()));
  }
  Tensor& y = ctx.Output(0, DType::kFloat32, x.shape());
  RunBroadcast<float, float>(plan, x.data<float>(), slope.data<float>(), y.data<float>(), ctx.pool(),
                             [](float v, float a) { return v < 0.f ? a * v : v; });
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_PRelu() {
  static const OpDef def{
      .name = "PRelu",
      .min_inputs = 2,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("7: unidirectional broadcasting of slope (dopt's oldest opset); 9, 16: types only"),
      .quant = NoQuantRole(),  // the negative slope rescales
  };
  return def;
}

}  // namespace dopt
