// What the integer ops share: the convolution of ConvInteger and QLinearConv, the matrix product
// of MatMulInteger and QLinearMatMul (int8 / uint8 operands minus their zero points, int32
// accumulation), the checks of their zero points and scales, and the requantization of the
// QLinear* ops (ONNX Runtime's: float(acc) * (scale_a * scale_b / scale_y) in float, rounded
// half to even, plus the output zero point, saturated).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "ops/op_util.h"

namespace dopt {

// Shape-rule checks of one integer operand (input `x`) and its zero point (input `zp`, may be
// absent): x int8 or uint8, the zero point of the same type. `what` names them ("x", "w").
Status CheckIntegerOperand(const InferContext& ctx, int x, int zp, const char* what);
// Same at run time (zp may be null).
Status CheckIntegerOperand(const Node& node, const Tensor& x, const Tensor* zp, const char* what);

// ConvInteger's core: conv(x - x_zp, w - w_zp) as int32 [N, M, out...] (group, strides, pads,
// dilations, auto_pad from the node). x_zp: null or one value; w_zp: null, one value or one per
// output channel (M). Padding contributes 0 (x is padded with its zero point).
StatusOr<Tensor> IntegerConv(const Node& node, const Tensor& x, const Tensor* x_zp, const Tensor& w,
                             const Tensor* w_zp, ThreadPool* pool);

// MatMulInteger's core: (a - a_zp) x (b - b_zp) as int32, numpy matmul shapes. a_zp: null, one
// value, one per row of a (1-D of M) or a tensor broadcasting to a's shape ([..., M, 1]); b_zp:
// null, one value, one per column of b (1-D of N) or broadcasting to b's shape ([..., 1, N]).
StatusOr<Tensor> IntegerMatMul(const Node& node, const Tensor& a, const Tensor* a_zp, const Tensor& b,
                               const Tensor* b_zp, ThreadPool* pool);

// The values of a float scale / int zero point input that holds one value or `n` values (1-D),
// as n values (a single one repeated); an error naming the node and `what` otherwise.
StatusOr<std::vector<float>> ScaleValues(const Node& node, const Tensor& t, int64_t n, const char* what);
StatusOr<std::vector<int32_t>> ZeroPointValues(const Node& node, const Tensor* t, int64_t n, const char* what);

// One requantized output value: saturate(round_half_even(float(acc) * multiplier) + zero_point).
template <typename Q>
inline Q Requantize(int32_t acc, float multiplier, int32_t zero_point) {
  constexpr float lo = (float)std::numeric_limits<Q>::lowest(), hi = (float)std::numeric_limits<Q>::max();
  float v = std::nearbyint((float)acc * multiplier) + (float)zero_point;
  if (v != v) v = (float)zero_point;  // 0 x an infinite multiplier
  v = v < lo ? lo : v > hi ? hi : v;
  return (Q)v;
}

}  // namespace dopt
