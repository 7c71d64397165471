// QLinearMatMul: y = saturate(round((a - a_zero_point) x (b - b_zero_point) * a_scale * b_scale
// / y_scale) + y_zero_point), numpy matmul shapes; a, b and y int8 or uint8 (y of
// y_zero_point's type). Scales and zero points: one value, or 1-D per row of a (a's and y's, M
// values) and per column of b (N values), as opset 21 allows. The integer product is
// MatMulInteger's and the requantization ONNX Runtime's (ops/integer_conv_matmul.h).
#include "ops/integer_conv_matmul.h"

namespace dopt {
namespace {

#define SCALE_TYPES {DType::kFloat32, DType::kFloat16, DType::kBFloat16}

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckIntegerOperand(ctx, 0, 2, "a"));
  DOPT_RETURN_IF_ERROR(CheckIntegerOperand(ctx, 3, 5, "b"));
  for (int i : {1, 4, 6}) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, i, SCALE_TYPES));
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 7, {DType::kInt8, DType::kUInt8}));
  DType out = ctx.input(7).dtype;
  if (out == DType::kUndefined) out = ctx.input(0).dtype;
  const ValueInfo& a = ctx.input(0);
  const ValueInfo& b = ctx.input(3);
  if (!a.rank_known || !b.rank_known) {
    ctx.SetOutputUnknownRank(0, out);
    return Status::Ok();
  }
  DOPT_ASSIGN_OR_RETURN(MatMulShapes s, PlanMatMulShapes(ctx.node(), a.shape, b.shape));
  ctx.SetOutput(0, out, s.out);
  return Status::Ok();
}

template <typename Q>
void RequantizeRows(const int32_t* acc, int64_t batches, int64_t M, int64_t N, const std::vector<float>& as,
                    const std::vector<float>& bs, const std::vector<float>& ys, const std::vector<int32_t>& yz, Q* y,
                    ThreadPool* pool) {
  ParallelForOrInline(pool, batches * M, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, N)),
                      [&](int64_t r0, int64_t r1) {
                        for (int64_t r = r0; r < r1; ++r) {
                          const int64_t i = r % M;
                          for (int64_t j = 0; j < N; ++j)
                            y[r * N + j] = Requantize<Q>(acc[r * N + j], as[i] * bs[j] / ys[i], yz[i]);
                        }
                      });
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(3);
  const Tensor& y_zp = ctx.input(7);
  DOPT_ASSIGN_OR_RETURN(MatMulShapes s, PlanMatMulShapes(node, a.shape(), b.shape()));
  const int64_t M = s.M, N = s.N;
  DOPT_ASSIGN_OR_RETURN(std::vector<float> as, ScaleValues(node, ctx.input(1), M, "a_scale"));
  DOPT_ASSIGN_OR_RETURN(std::vector<float> bs, ScaleValues(node, ctx.input(4), N, "b_scale"));
  DOPT_ASSIGN_OR_RETURN(std::vector<float> ys, ScaleValues(node, ctx.input(6), M, "y_scale"));
  DOPT_ASSIGN_OR_RETURN(std::vector<int32_t> yz, ZeroPointValues(node, &y_zp, M, "y_zero_point"));
  DOPT_ASSIGN_OR_RETURN(Tensor acc, IntegerMatMul(node, a, &ctx.input(2), b, &ctx.input(5), ctx.pool()));
  Tensor& y = ctx.OutputUninitialized(0, y_zp.dtype(), acc.shape());
  const int64_t batches = M * N == 0 ? 0 : acc.numel() / (M * N);
  if (y_zp.dtype() == DType::kInt8) {
    RequantizeRows<int8_t>(acc.data<int32_t>(), batches, M, N, as, bs, ys, yz, y.data<int8_t>(), ctx.pool());
  } else {
    RequantizeRows<uint8_t>(acc.data<int32_t>(), batches, M, N, as, bs, ys, yz, y.data<uint8_t>(), ctx.pool());
  }
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_QLinearMatMul() {
  static const OpDef def{
      .name = "QLinearMatMul",
      .min_inputs = 8,
      .max_inputs = 8,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 10; 21: float16/bfloat16 scales, float8 types and per-row/column "
                                 "scales (the old per-tensor meaning is kept)"),
      .quant = AlreadyQuantized(),
  };
  return def;
}

}  // namespace dopt
