// quantize_op_type (config field 113): ops without weights whose data input is quantized on
// request. By default LayerNormalization, Softmax, Gelu and the ops of their decomposed forms
// (ReduceMean/Sub/Pow/Sqrt/Div, Erf, Tanh ...) run in float with float inputs: they have no
// quantization role, and int8 is fragile there. A user (or an NPU that needs int8 inputs
// everywhere) names op types; every node of those types then gets its input 0 quantized per
// tensor as an activation (calibrated like any other), its output staying float.
#pragma once

#include <string>
#include <vector>

#include "dopt/status.h"
#include "ir/graph.h"
#include "quant/quant_selection.h"

namespace dopt {

// Adds the nodes of `types` to `sel` (activation_only candidates, in graph order with the
// others). When `writer_can` is false (the output format's writer cannot store it) they go to
// sel->excluded with `off_reason` instead. Errors: a type the model has no node of, a weighted
// type (quantized anyway). A node whose input 0 is a constant or not float is excluded with the
// reason. Unnamed nodes are given a unique name (the plan names ops).
Status AddRequestedOps(Graph& graph, const std::vector<std::string>& types, bool writer_can,
                       const std::string& off_reason, QuantSelection* sel);

}  // namespace dopt
