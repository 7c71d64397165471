// QLinearConv: y = saturate(round((conv(x - x_zero_point, w - w_zero_point) + B) * x_scale *
// w_scale / y_scale) + y_zero_point), x, w and y int8 or uint8 (y of y_zero_point's type), B
// int32 per output channel; w_scale and w_zero_point one value or one per output channel.
// Conv's group, strides, dilations, pads and auto_pad. The integer convolution is
// ConvInteger's and the requantization ONNX Runtime's (ops/integer_conv_matmul.h).
#include "ops/integer_conv_matmul.h"
#include "ops/window_attrs.h"

namespace dopt {
namespace {

#define SCALE_TYPES {DType::kFloat32, DType::kFloat16, DType::kBFloat16}

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckIntegerOperand(ctx, 0, 2, "x"));
  DOPT_RETURN_IF_ERROR(CheckIntegerOperand(ctx, 3, 5, "w"));
  for (int i : {1, 4, 6}) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, i, SCALE_TYPES));
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 7, {DType::kInt8, DType::kUInt8}));
  if (ctx.has_input(8)) {
    DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 8, {DType::kInt32}));
    if (ctx.input(8).rank_known && ctx.input(8).shape.size() != 1) {
      return InvalidArgument(ctx.node().Describe() + ": bias B must be 1-D, got " + ShapeToString(ctx.input(8).shape));
    }
  }
  DType out = ctx.input(7).dtype;
  if (out == DType::kUndefined) out = ctx.input(0).dtype;
  return InferConvOutput(ctx, 0, 3, out);
}

template <typename Q>
void RequantizeChannels(const int32_t* acc, int64_t N, int64_t M, int64_t P, const std::vector<float>& mult,
                        const int32_t* bias, int32_t zp, Q* y, ThreadPool* pool) {
  ParallelForOrInline(pool, N * M, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, P)),
                      [&](int64_t r0, int64_t r1) {
                        for (int64_t r = r0; r < r1; ++r) {
                          const int64_t m = r % M;
                          const float s = mult[m];
                          const int32_t b = bias ? bias[m] : 0;
                          for (int64_t i = 0; i < P; ++i) y[r * P + i] = Requantize<Q>(acc[r * P + i] + b, s, zp);
                        }
                      });
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(3);
  const Tensor& y_zp = ctx.input(7);
  if (x.rank() < 3 || w.rank() < 3) {
    return InvalidArgument(node.Describe() + ": x and w must have rank >= 3, got " + ShapeToString(x.shape()) +
                           " and " + ShapeToString(w.shape()));
  }
  const int64_t M = w.dim(0);
  DOPT_ASSIGN_OR_RETURN(std::vector<float> xs, ScaleValues(node, ctx.input(1), 1, "x_scale"));
  DOPT_ASSIGN_OR_RETURN(std::vector<float> ws, ScaleValues(node, ctx.input(4), M, "w_scale"));
  DOPT_ASSIGN_OR_RETURN(std::vector<float> ys, ScaleValues(node, ctx.input(6), 1, "y_scale"));
  DOPT_ASSIGN_OR_RETURN(std::vector<int32_t> yz, ZeroPointValues(node, &y_zp, 1, "y_zero_point"));
  const int32_t* bias = nullptr;
  if (ctx.has_input(8)) {
    const Tensor& b = ctx.input(8);
    if (b.dtype() != DType::kInt32 || b.rank() != 1 || b.numel() != M) {
      return InvalidArgument(node.Describe() + ": bias B must be int32 with " + std::to_string(M) +
                             " values (one per output channel), got " + DTypeName(b.dtype()) + " " +
                             ShapeToString(b.shape()));
    }
    bias = b.data<int32_t>();
  }
  DOPT_ASSIGN_OR_RETURN(Tensor acc, IntegerConv(node, x, &ctx.input(2), w, &ctx.input(5), ctx.pool()));
  // ONNX Runtime's per-channel multiplier, in float.
  std::vector<float> mult((size_t)M);
  for (int64_t m = 0; m < M; ++m) mult[m] = xs[0] * ws[m] / ys[0];
  Tensor& y = ctx.OutputUninitialized(0, y_zp.dtype(), acc.shape());
  const int64_t N = acc.dim(0), P = M == 0 || N == 0 ? 0 : acc.numel() / (N * M);
  if (y_zp.dtype() == DType::kInt8) {
    RequantizeChannels<int8_t>(acc.data<int32_t>(), N, M, P, mult, bias, yz[0], y.data<int8_t>(), ctx.pool());
  } else {
    RequantizeChannels<uint8_t>(acc.data<int32_t>(), N, M, P, mult, bias, yz[0], y.data<uint8_t>(), ctx.pool());
  }
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_QLinearConv() {
  static const OpDef def{
      .name = "QLinearConv",
      .min_inputs = 8,
      .max_inputs = 9,
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
