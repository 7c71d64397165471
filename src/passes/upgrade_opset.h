// Upgrades a graph's default-domain (ONNX) nodes to a newer opset, rewriting every node
// whose signature or semantics changed on the way (attributes that became inputs, Softmax's
// 2-D coercion, Upsample -> Resize, ...), as ONNX's version converter does, but only for the
// ops in src/ops/ops.inc and always exactly: an op that cannot be carried over faithfully is
// an error naming the node.
#pragma once

#include "dopt/status.h"
#include "ir/graph.h"

namespace dopt {

// Oldest and newest default-domain opsets UpgradeOpset handles.
constexpr int kUpgradeMinOpset = 7;
constexpr int kUpgradeMaxOpset = 21;

// Rewrites every default-domain node to `target_opset` (kUpgradeMinOpset..kUpgradeMaxOpset,
// not older than any node's current version): changed and new nodes are marked dirty, new
// constant inputs become new initializers (unique names, dirty), every node's opset_version
// becomes the target, the default-domain entry of graph.info.opsets is set to it and
// graph.info.ir_version is raised to the IR version that opset was released with when older.
// The graph is prepared again afterwards (ops resolved, sorted, verified, shapes inferred).
// A graph already at the target is left as it is. On error the graph may be partly rewritten.
Status UpgradeOpset(Graph& graph, int target_opset);

}  // namespace dopt
