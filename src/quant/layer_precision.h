// Mixed precision by hand (config `layer_precision` blocks) and by accuracy_target: which
// quantized ops run with 16-bit activations or stay float.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "dopt/status.h"
#include "ir/graph.h"
#include "quant/quant_plan.h"
#include "quant/quant_selection.h"

namespace dopt {

struct PrecisionRequest {
  std::string op;         // a node name, or
  std::string tensor;     // the ops whose activation input is this tensor
  std::string precision;  // "int8", "int16" or "float"
};

// Node name -> precision for every selected op a request names. A request that names no
// selected op (and no op already left in float) is an error naming it.
StatusOr<std::map<std::string, std::string>> ResolveLayerPrecision(const Graph& graph, const QuantSelection& selection,
                                                                   const std::vector<PrecisionRequest>& requests);

// Moves the ops marked "float" from the selection to its excluded ops (reason `why`) and
// records them in `raised`; returns node -> 16 for the ops marked "int16" (also recorded).
std::map<std::string, int> ApplyLayerPrecision(const std::map<std::string, std::string>& precisions, const std::string& why,
                                               QuantSelection* selection, std::vector<RaisedOp>* raised);

}  // namespace dopt
