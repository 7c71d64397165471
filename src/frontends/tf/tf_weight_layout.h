// How the weights of a quantized TF op relate to the IR weights the frontend made from them
// (docs: the frontend contract, src/frontends/tf/tf_frontend.h):
//   Conv2D                filter HWIO  <-> IR Conv weight OIHW
//   DepthwiseConv2dNative filter HWCM  <-> IR Conv weight [C*M, 1, H, W] (group C)
//   Conv2DBackpropInput   filter HWOI  <-> IR ConvTranspose weight IOHW
//   MatMul, BatchMatMulV2/V3  b [K, N] (or [N, K] with transpose_b / adj_y) <-> IR MatMul weight [K, N]
//   Einsum "P k, k N -> P N"  kernel [K, N1, N2, ...] <-> IR MatMul weight [K, N1 * N2 * ...]
// One table, keyed by the TF op type; the exporter knows no other op names.
#pragma once

#include <string>

#include "dopt/status.h"
#include "ir/tensor.h"

namespace dopt {

enum class TfWeightKind { kHwio, kHwcm, kMatMul, kMatMulTransposed };

struct TfQuantizedOpInfo {
  const char* op;
  int data_input;    // index of the activation input; -1: MatMul, found by name
  int filter_input;  // index of the weight input; -1: MatMul, the other input
  TfWeightKind kind;
};

// The entry for a TF op type, or nullptr when the exporter cannot quantize that op.
const TfQuantizedOpInfo* FindTfQuantizedOp(const std::string& op);

// A tensor in IR weight layout -> the same tensor in TF layout (any dtype). `groups` is the IR
// Conv's group (C of a depthwise HWCM filter; 1 elsewhere).
StatusOr<Tensor> IrWeightToTf(const Tensor& ir, TfWeightKind kind, int64_t groups);

// The shape of a per-channel scale that broadcasts along TF weight dims for the IR weight's
// channel axis `ir_axis` (scales in IR channel order), e.g. [O] for HWIO, [C, M] for HWCM,
// [O, 1] for HWOI, [N, 1] for a transposed MatMul weight.
StatusOr<Shape> TfScaleShape(const Shape& ir_shape, TfWeightKind kind, int ir_axis, int64_t groups);

}  // namespace dopt
