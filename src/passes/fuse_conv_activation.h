// Execution-only rewrite: a Conv whose output feeds exactly one Relu, Clip or LeakyRelu (and
// nothing else, and is not a graph output) applies that activation itself, in its GEMM
// epilogue, and produces the activation's output; the activation node is removed.
// The Conv carries internal attributes (never exported, since the pass only runs on the copy
// of the graph that the executor runs with ExecutorOptions::optimize):
//   dopt.fused_activation: "Relu" | "Clip" | "LeakyRelu"
//   dopt.fused_alpha (LeakyRelu), dopt.fused_min / dopt.fused_max (Clip; absent = unbounded)
#pragma once

#include "passes/pass.h"

namespace dopt {

class FuseConvActivationPass : public Pass {
 public:
  const char* name() const override { return "fuse_conv_activation"; }
  StatusOr<int> Run(Graph& graph) override;
};

}  // namespace dopt
