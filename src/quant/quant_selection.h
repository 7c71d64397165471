// What the quantization passes hand to one another: the ops chosen for quantization (with
// which input is the activation, the weight and the bias) and those left in float, with why.
#pragma once

#include <string>
#include <vector>

#include "quant/quant_plan.h"

namespace dopt {

struct QuantCandidate {
  std::string node;        // node name (unique; unnamed nodes are given one)
  std::string op_type;     // a weighted op (QuantTraits, ops/op.h)
  int activation_input = 0;
  int weight_input = 1;
  int bias_input = -1;     // -1: no bias, or one that stays float (e.g. Gemm with beta != 1)
  int weight_axis = 0;     // output-channel axis of the weight; -1: per tensor only
  // Both operands are activations (attention's MatMuls): `weight_input` is the second one,
  // quantized per tensor like the first.
  bool activation_pair = false;
  int weight2_input = -1;  // a second constant weight (LSTM/GRU/RNN's R), -1: none
  int weight2_axis = -1;
  // quantize_op_type: an op without weights whose data input (input 0) is quantized on request
  // (LayerNormalization, Softmax, Gelu ...); weight_input is -1.
  bool activation_only = false;
};

// Which kinds of quantization the selection may use: the output format's writer must support
// them (pipeline/exporters), and the config may turn them off.
struct QuantSelectionOptions {
  bool activation_pairs = true;  // MatMul of two activations: both operands int8 per tensor
  bool second_weights = true;    // ops with two weights (LSTM/GRU/RNN's W and R)
  // Why activation pairs are off, for the reason of an op left in float ("" when they are on).
  std::string activation_pairs_off_reason;
  std::string second_weights_off_reason;
};

struct QuantSelection {
  std::vector<QuantCandidate> ops;
  std::vector<ExcludedOp> excluded;
  // Nodes of ops that are already quantized (QuantTraits::Role::kQuantized): their op types,
  // one entry per node.
  std::vector<std::string> already_quantized;
};

}  // namespace dopt
