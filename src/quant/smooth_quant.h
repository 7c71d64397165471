// smooth_quant_alpha (SmoothQuant, Xiao et al. 2023): activation outliers are moved into the
// weights. For an activation X read by quantized MatMul/Gemm ops with constant weights W, per
// input channel c:
//   s_c = max|X_c|^alpha / max|W_c|^(1 - alpha)
// (max|X_c| over the calibration data, max|W_c| over every reading op's weight row for c), then
// X / s and s·W (passes/smooth_activations.h) compute the same product with a flatter X. alpha
// = 0.5 balances both; larger values move more of the activation range into the weights.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "dopt/status.h"
#include "ir/graph.h"
#include "passes/pass.h"
#include "passes/smooth_activations.h"
#include "quant/quant_plan.h"
#include "quant/quant_selection.h"

namespace dopt {

// An activation and the selected ops that may smooth it.
struct SmoothingGroup {
  std::string tensor;
  std::vector<std::string> ops;
};

// The activations read (as input 0) by selected MatMul/Gemm ops with a constant 2-D float
// weight (not a pair of activations, no second weight, Gemm without transA), whose last axis is
// the weight's input channels; in graph order.
std::vector<SmoothingGroup> SmoothingGroups(const Graph& graph, const QuantSelection& sel);

// The factors for each group with an observed |max| (`absmax`: per channel, by tensor name);
// channels whose activation or weight maximum is 0 keep 1; factors are clamped to [1e-5, 1e5].
std::vector<ActivationSmoothing> SmoothingFactors(const Graph& graph, const std::vector<SmoothingGroup>& groups,
                                                  const std::map<std::string, std::vector<float>>& absmax,
                                                  float alpha);

// Applies plan.smoothing to the prepared graph (nothing when empty): the quantizer after it
// computed the factors, and every reader of a plan (dopt run --compress_conf, qdq-export,
// dopt analyze --compress_conf) right after PrepareForQuantization. An entry that does not fit
// the graph (the plan was made for another model) is an error naming the tensor or op.
Status ApplySmoothing(Graph& graph, const QuantPlan& plan, std::vector<PassReport>* reports = nullptr);

}  // namespace dopt
