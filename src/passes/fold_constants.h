// Folds every value computable from model constants alone into an initializer: Constant nodes,
// and any sub-graph of foldable ops (Identity, Cast, Reshape, Transpose, Unsqueeze, Concat,
// DequantizeLinear, Mul, ...) whose inputs are all constants. Each folded value that a remaining
// node reads becomes an initializer of the same name (in its declared dtype); the nodes that
// computed it are dropped, and so are the initializers only they read.
//
// Constants are initializers that are not graph inputs (a graph input with an initializer is a
// default the user may override, never a constant) and the values folded here. Nodes whose
// outputs are graph outputs, ops marked not foldable, other domains and values larger than
// `max_elements` are left alone. An If whose cond is a constant is replaced by the nodes of the
// branch it takes (unless that branch holds sub-graphs itself). Knows nothing of quantization.
#pragma once

#include <cstdint>

#include "passes/pass.h"

namespace dopt {

class FoldConstantsPass : public Pass {
 public:
  // 64 Mi elements (256 MiB of float32): far above any weight, below anything pathological.
  static constexpr int64_t kDefaultMaxElements = int64_t{1} << 26;
  explicit FoldConstantsPass(int64_t max_elements = kDefaultMaxElements) : max_elements_(max_elements) {}
  const char* name() const override { return "fold_constants"; }
  StatusOr<int> Run(Graph& graph) override;

 private:
  int64_t max_elements_;
};

}  // namespace dopt
