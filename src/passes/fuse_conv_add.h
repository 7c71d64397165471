// Execution-only rewrite: a Conv whose result (after its fused activation and epilogue, so this
// runs after fuse_conv_activation and fuse_conv_epilogue) is read only by an Add of another
// value of exactly its shape (a residual connection: ResNet's, MobileNetV2's, YOLO's bottleneck)
// adds that value itself, block by block while its output is still in cache, and produces the
// Add's output; a Relu read only by that Add follows into the Conv as well (ResNet's Add ->
// Relu). The Add (and Relu) nodes are removed. The values are the same bits as before: the
// Conv's float result plus the residual, then max(0, .).
// The Conv carries the residual as input 3 and internal attributes (never exported: the pass
// only runs on the executor's copy of the graph, ExecutorOptions::optimize):
//   dopt.fused_add: 1 (input 3 is the residual)
//   dopt.fused_post_activation: "Relu" (after the Add; absent: none)
// Never where a value it would remove is a graph output (observed values are outputs then).
#pragma once

#include "passes/pass.h"

namespace dopt {

class FuseConvAddPass : public Pass {
 public:
  const char* name() const override { return "fuse_conv_add"; }
  StatusOr<int> Run(Graph& graph) override;
};

}  // namespace dopt
