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
};

struct QuantSelection {
  std::vector<QuantCandidate> ops;
  std::vector<ExcludedOp> excluded;
  // Nodes of ops that are already quantized (QuantTraits::Role::kQuantized): their op types,
  // one entry per node.
  std::vector<std::string> already_quantized;
};

}  // namespace dopt
