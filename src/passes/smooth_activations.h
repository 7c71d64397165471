// Activation smoothing (SmoothQuant: Xiao et al., "SmoothQuant: Accurate and Efficient
// Post-Training Quantization for Large Language Models", 2023) as a float-equivalent rewrite
// with given factors: an activation X read by MatMul/Gemm ops with constant 2-D weights is
// divided by s per channel (its last axis), and each weight's row for that input channel is
// multiplied by s, so X·W = (X / s)·(s·W). Where the factors come from (calibration statistics
// and the migration strength alpha) is the quantizer's business (quant/smooth_quant.h); this
// pass only applies them, deterministically, so the quantizer and every reader of a plan
// (dopt run --compress_conf, qdq-export, the analysis) get the same graph.
//
// For each entry:
//   - every listed op must read `tensor` as input 0 and only there, and be smoothable
//     (SmoothableWeightAxis: MatMul [K, N] weights take s on rows, Gemm with transB [N, K] on
//     columns); K = scale.size() = the tensor's last dim;
//   - a weight read by no other node is scaled in place, else a copy "<weight>_smoothed" is made;
//   - the division is folded into the producer when it is a LayerNormalization over the last
//     axis with an initializer Scale (and B) read by it alone, and the tensor is read by the
//     listed ops only (no graph output): Scale and B are divided by s. Otherwise a Mul by 1/s
//     (initializer "<tensor>_smooth_inv") is inserted, named "<tensor>/smooth", whose output
//     "<tensor>_smoothed" replaces the tensor in the listed ops only.
// Anything else (an op missing, another layout) is an error naming the op: the factors were made
// for another graph.
#pragma once

#include <string>
#include <vector>

#include "passes/pass.h"

namespace dopt {

struct ActivationSmoothing {
  std::string tensor;             // the activation, as named in the prepared graph
  std::vector<float> scale;       // s per channel (the tensor's last axis); > 0
  std::vector<std::string> ops;   // the MatMul/Gemm nodes whose weights take s
};

// The input-channel axis (0 or 1) of the weight of `n` when `n` can take smoothing factors: a
// weighted op (QuantTraits) reading its activation as input 0 along the last axis and a float
// 2-D initializer weight as input 1 (MatMul x·W, Gemm without transA); the axis is the one its
// traits do not quantize per channel. -1 otherwise. One rule for the quantizer's choice and the
// pass's check.
int SmoothableWeightAxis(const Graph& g, const Node& n);

class SmoothActivationsPass : public Pass {
 public:
  explicit SmoothActivationsPass(std::vector<ActivationSmoothing> smoothing) : smoothing_(std::move(smoothing)) {}
  const char* name() const override { return "smooth_activations"; }
  // Returns the number of tensors smoothed.
  StatusOr<int> Run(Graph& graph) override;
  // How many of them were folded into a LayerNormalization (the rest got a Mul).
  int folded() const { return folded_; }

 private:
  std::vector<ActivationSmoothing> smoothing_;
  int folded_ = 0;
};

}  // namespace dopt
