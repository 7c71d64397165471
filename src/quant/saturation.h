// The x86 saturation bound of a quantized op: CPUs without VNNI multiply u8 activations by s8
// weights with vpmaddubsw, which adds two adjacent u8 x s8 products in int16 and saturates at
// 32767. An op is safe when no such pair can exceed it (x86_saturation_safe limits weights to
// [-64, 64]: 255 * 64 * 2 = 32640).
#pragma once

#include <cstdint>

#include "ir/graph.h"
#include "quant/quant_plan.h"

namespace dopt {

constexpr int64_t kInt16Max = 32767;

// An upper bound, in integer units, of |a1 * w1 + a2 * w2| over two weights of the same output
// channel that a u8 x s8 kernel may pair along the reduction (input channel x kernel) axis.
// Which two weights are adjacent depends on how the kernel packs them (for Conv, consecutive
// input channels at one kernel position in NHWC-packed kernels), so the bound takes the
// documented, safe approximation: per output channel, the sum of the two largest |q| of that
// channel, times the largest activation magnitude, maximised over channels:
//   MaxPairSum = A * max_channel (|q|_(1) + |q|_(2)),
// with A = 255 for asymmetric 8-bit activations (ONNX Runtime's u8 representation: a in
// [0, 255]) and 128 for symmetric ones (s8). q = the weight quantized with the op's scales.
// Channels are slices along op.weight.axis (the per-channel axis); per-tensor weights take the
// whole tensor as one channel (a looser bound, still safe). Returns 0 for an op whose two
// operands are activations, whose weight is not an initializer of `g` (the prepared graph the
// plan names), or whose activations are wider than 8 bits (no u8 x s8 kernel).
int64_t MaxPairSum(const Graph& g, const QuantizedOp& op);

}  // namespace dopt
