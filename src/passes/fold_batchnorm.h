// Folds an inference BatchNormalization into the Conv or ConvTranspose that feeds it:
//   W' = W * g / sqrt(var + eps)  (per output channel),  b' = (b - mean) * g / sqrt(var + eps) + beta.
// The Conv then produces the BatchNormalization's output tensor (same name), so the graph's
// interface and the names downstream are unchanged. Weights keep their name and dtype unless
// another node shares them (then a new initializer is made).
#pragma once

#include "passes/pass.h"

namespace dopt {

class FoldBatchNormPass : public Pass {
 public:
  const char* name() const override { return "fold_batchnorm"; }
  StatusOr<int> Run(Graph& graph) override;
};

}  // namespace dopt
