// Applies the config's exclude_op list to the ops marked for quantization. For ONNX a name
// may be a node name or the name of one of the node's initializers (its weight or bias). An
// excluded op keeps float inputs; it moves to QuantSelection::excluded with the reason.
// Names were validated against the model beforehand (ResolveCalibRequest); a name that
// matches no quantizable op (e.g. a Relu) changes nothing. The graph is not changed.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"
#include "quant/quant_selection.h"

namespace dopt {

// An analysis, not a graph pass: reads `graph`, edits only `selection`.
void ApplyExclusions(const Graph& graph, const std::vector<std::string>& names, QuantSelection* selection);

}  // namespace dopt
