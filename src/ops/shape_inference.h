// Runs every op's shape rule over the graph in order, folding small constant sub-graphs
// (Shape -> Gather -> Concat -> Reshape chains) so data-dependent shapes become static.
#pragma once

#include "dopt/status.h"
#include "ir/graph.h"

namespace dopt {

struct ShapeInferenceOptions {
  // Outputs with at most this many elements whose inputs are all constant are folded.
  int64_t fold_limit = 1 << 16;
  // Nodes before this index are taken as already inferred (frontends that infer as they build).
  size_t first_node = 0;
};

Status InferShapes(Graph& graph, const ShapeInferenceOptions& options = {});

// Resolves ops, sorts, verifies and infers shapes: what every frontend calls last.
Status PrepareGraph(Graph& graph);

}  // namespace dopt
