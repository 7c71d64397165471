// Execution-only rewrite: a Conv (or another anchor, OpDef::epilogue_anchor: a MatMul by a
// constant 2-D B, whose channels are its columns) followed by a chain of element-wise ops, each reading the
// chain's current value plus constants (one value, or one per channel) or the Conv's own result,
// applies the chain itself in its epilogue (kernels/epilogue.h) and produces the chain's last
// output; the chain's nodes are removed. Which ops can be steps, and how, is each op's
// OpDef::epilogue. Catches SiLU (x * Sigmoid(x)), decomposed HardSwish (x * Clip(x + 3, 0, 6) / 6),
// x * HardSigmoid(x), affine tails (Mul / Add by constants) and activations after them.
// A chain stops where a value has a reader outside it or is a graph output; the Conv's result
// must be read by chain nodes only. Runs after fuse_conv_activation (the chain then starts from
// the activated result). The Conv carries the program in internal attributes (dopt.epilogue_*,
// ops/op_util.h), never exported: the pass only runs on the executor's copy of the graph
// (ExecutorOptions::optimize).
#pragma once

#include "passes/pass.h"

namespace dopt {

class FuseConvEpiloguePass : public Pass {
 public:
  const char* name() const override { return "fuse_conv_epilogue"; }
  StatusOr<int> Run(Graph& graph) override;
};

}  // namespace dopt
