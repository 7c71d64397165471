// MatMulInteger: Y = (A - a_zero_point) x (B - b_zero_point) as int32, numpy matmul shapes,
// A and B int8 or uint8 (each zero point of its operand's type: one value, one per row of A /
// column of B, or [..., M, 1] / [..., 1, N]). Computed by the integer matrix product
// QLinearMatMul shares (ops/integer_conv_matmul.h).
#include "ops/integer_conv_matmul.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckIntegerOperand(ctx, 0, 2, "a"));
  DOPT_RETURN_IF_ERROR(CheckIntegerOperand(ctx, 1, 3, "b"));
  const ValueInfo& a = ctx.input(0);
  const ValueInfo& b = ctx.input(1);
  if (!a.rank_known || !b.rank_known) {
    ctx.SetOutputUnknownRank(0, DType::kInt32);
    return Status::Ok();
  }
  DOPT_ASSIGN_OR_RETURN(MatMulShapes s, PlanMatMulShapes(ctx.node(), a.shape, b.shape));
  ctx.SetOutput(0, DType::kInt32, s.out);
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Tensor* a_zp = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  const Tensor* b_zp = ctx.has_input(3) ? &ctx.input(3) : nullptr;
  DOPT_ASSIGN_OR_RETURN(Tensor y, IntegerMatMul(ctx.node(), ctx.input(0), a_zp, ctx.input(1), b_zp, ctx.pool()));
  ctx.SetOutput(0, std::move(y));
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_MatMulInteger() {
  static const OpDef def{
      .name = "MatMulInteger",
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
