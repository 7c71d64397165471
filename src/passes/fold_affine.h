// Folds an elementwise Mul, Div, Add or Sub by a per-output-channel constant that follows a
// Conv, ConvTranspose or Gemm into that op's weights and bias:
//   y * k  ->  W[c] *= k[c], b[c] *= k[c]        y / k  ->  W[c] /= k[c], b[c] /= k[c]  (no k = 0)
//   y + a  ->  b[c] += a[c]                      y - a  ->  b[c] -= a[c]   (a bias is added if absent)
// Mul and Add accept the constant on either side; Sub and Div only as (y - a), (y / k).
// The constant (an initializer, or a value shape inference found constant) must broadcast per
// output channel without enlarging the output: for a Conv output [N, C, spatial...] every dim
// of the right-aligned constant is 1 except dim 1, which may be C ([C,1,1], [1,C,1,1], scalar…);
// for a Gemm output [M, N]: [N], [1, N], scalar. Gemm's transB picks the weight axis (B is
// [N, K] when transB = 1, else [K, N]); alpha and beta stay as they are: a scale multiplies B
// and C alike, and a shift is added to C as a / beta (skipped when beta = 0).
// Skipped: the op's output has another consumer or is a graph output, weights or bias not
// initializers, non-float dtypes, Gemm C not per column. Repeats until nothing changes, so
// Conv -> Mul -> Add chains fold fully. The folded op produces the Mul/Add's output tensor
// (same name); weights and bias keep their name and dtype unless another node shares them.
#pragma once

#include "passes/pass.h"

namespace dopt {

class FoldAffinePass : public Pass {
 public:
  const char* name() const override { return "fold_affine"; }
  StatusOr<int> Run(Graph& graph) override;
};

}  // namespace dopt
