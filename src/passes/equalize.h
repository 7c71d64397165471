// Cross-layer equalization (Nagel et al., "Data-Free Quantization Through Weight Equalization
// and Bias Correction", 2019): a float-equivalent rewrite of Conv chains that balances the
// per-channel weight ranges, so per-tensor (and per-channel) int8 weights lose less.
//
// A chain is Conv1 -> [up to 4 of Relu, Clip(min 0, no max), MaxPool, AveragePool,
// GlobalMaxPool, GlobalAveragePool] -> one or several Conv2 where
//   - Conv1 (any group) has one output, an initializer weight and, if any, an initializer bias;
//   - each value up to the last op between is read only by the next op (and is no graph
//     output); the last value is read only as input 0 of Convs and is no graph output. The ops
//     between work per channel and are positively homogeneous: op(x / s) = op(x) / s, s > 0
//     (pools pad with -inf or zeros, which scaling keeps);
//   - every consumer Conv2 has an initializer weight, group 1 or depthwise (group = channels,
//     one input channel per group); other groups are skipped;
//   - weights are float (float32, float16, bfloat16; they keep their dtype).
// For each output channel c of Conv1: r1 = max|W1[c, ...]|, r2 = max over consumers of
// max|W2[:, c, ...]| (depthwise: W2[c, ...]), s = sqrt(r1 / r2) (1 when r1 or r2 is 0 or s is
// not finite); then W1[c] /= s, b1[c] /= s, W2[:, c] *= s. ReLU is positively homogeneous
// (relu(x / s) = relu(x) / s for s > 0), so the model computes the same function. Clip with a
// finite max (ReLU6) is not homogeneous and is skipped (its max would have to be divided too,
// per channel, which one Clip cannot hold); LeakyRelu, PRelu and every other op are skipped.
//
// Chains overlap (Conv2 of one chain is Conv1 of the next), so the whole rescaling is repeated
// (up to kMaxRounds, until no scale moves by more than 1e-4) on float32 working copies of the
// weights, which are stored once at the end. The result is deterministic: the quantizer
// (dopt -m 0) and the int8 simulation (dopt run --compress_conf, when the compress_conf says
// equalization) run the same pass on the same graph and get the same weights.
// Run() returns the number of chains rescaled; channels() the number of channels whose total
// scale differs from 1 by more than 1e-3; rescaled() what was done to each Conv, by node name,
// for writers that rebuild the model from its original layers (the TorchScript writer).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "passes/pass.h"

namespace dopt {

// The total factors the pass applied to one Conv: its output channel c was divided by
// out_divided[c] (weight and bias), its input channel c multiplied by in_multiplied[c] (for a
// depthwise Conv: the output channels of group c). Empty when that side was not rescaled.
struct ChannelRescale {
  std::vector<float> out_divided;
  std::vector<float> in_multiplied;
};

class EqualizePass : public Pass {
 public:
  static constexpr int kMaxRounds = 20;
  const char* name() const override { return "equalize"; }
  StatusOr<int> Run(Graph& graph) override;
  int channels() const { return channels_; }
  const std::map<std::string, ChannelRescale>& rescaled() const { return rescaled_; }

 private:
  int channels_ = 0;
  std::map<std::string, ChannelRescale> rescaled_;
};

}  // namespace dopt
