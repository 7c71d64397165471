// ConvInteger: y = conv(x - x_zero_point, w - w_zero_point) as int32, x and w int8 or uint8
// (each zero point of its operand's type; x's one value, w's one value or one per output
// channel), with Conv's group, strides, dilations, pads and auto_pad. Computed by the integer
// convolution QLinearConv shares (ops/integer_conv_matmul.h).
#include "ops/integer_conv_matmul.h"
#include "ops/window_attrs.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckIntegerOperand(ctx, 0, 2, "x"));
  DOPT_RETURN_IF_ERROR(CheckIntegerOperand(ctx, 1, 3, "w"));
  return InferConvOutput(ctx, 0, 1, DType::kInt32);
}

Status Run(KernelContext& ctx) {
  const Tensor* x_zp = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  const Tensor* w_zp = ctx.has_input(3) ? &ctx.input(3) : nullptr;
  DOPT_ASSIGN_OR_RETURN(Tensor y, IntegerConv(ctx.node(), ctx.input(0), x_zp, ctx.input(1), w_zp, ctx.pool()));
  ctx.SetOutput(0, std::move(y));
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_ConvInteger() {
  static const OpDef def{
      .name = "ConvInteger",
      .min_inputs = 2,
      .max_inputs = 4,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 10; unchanged through 21"),
      .quant = AlreadyQuantized(),
  };
  return def;
}

}  // namespace dopt
