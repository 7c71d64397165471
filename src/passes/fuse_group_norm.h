// Execution-only rewrite: GroupNorm as PyTorch exports it (torch.nn.GroupNorm, before opset 18's
// GroupNormalization),
//   Reshape(x, [N or 0, G, -1]) -> InstanceNormalization(scale 1, bias 0) -> Reshape(back to x's
//   shape) [-> Mul(gamma per channel) -> Add(beta per channel)],
// becomes one GroupNormalization (opset 21: per-channel scale and bias; 1 and 0 without the
// affine pair): one pass for the statistics and one for the normalisation instead of four
// passes over memory (PoolFormer, BiT, diffusion U-Nets).
// The constants must be model constants of the right shapes ([C], [C, 1, ...] or [1, C, 1, ...]
// for gamma and beta), every intermediate value read by the chain alone and not a graph output.
// Float tensors of rank >= 3 with known shape.
//
// Not exact (the chain rounds after the InstanceNormalization and after the Mul), so the executor
// runs it only when bits may change (ExecutorOptions::optimize without exact_only).
#pragma once

#include "passes/pass.h"

namespace dopt {

class FuseGroupNormPass : public Pass {
 public:
  const char* name() const override { return "fuse_group_norm"; }
  StatusOr<int> Run(Graph& graph) override;
};

}  // namespace dopt
