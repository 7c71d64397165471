// bias_correction: each quantized op's float bias plus the plan's per-channel correction
// (QuantizedOp::bias_correction), applied to the prepared float graph before the bias is
// quantized (by the writers and the int8 simulation alike).
#pragma once

#include "dopt/status.h"
#include "ir/graph.h"
#include "quant/quant_plan.h"

namespace dopt {

// Adds every op's correction to its bias initializer. An op with a correction must have a
// constant float bias of the same length.
Status ApplyBiasCorrections(Graph& graph, const QuantPlan& plan);

// The axis of a weighted op's output along which its bias is added: 1 for ops with spatial
// kernels (weight rank >= 3: Conv, ConvTranspose), the last axis otherwise (Gemm, MatMul).
int BiasOutputAxis(int weight_rank, int output_rank);

}  // namespace dopt
