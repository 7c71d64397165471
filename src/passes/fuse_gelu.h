// Execution-only rewrite: the exact GELU that exporters spell out in five ops (torch.onnx's
// nn.GELU / F.gelu before opset 20, transformers' gelu),
//   y = Mul(Mul(x, Add(Erf(Div(x, sqrt(2))), 1)), 0.5)   or   Mul(Mul(x, 0.5), Add(Erf(...), 1)),
// with the operands of Add and Mul in either order and Div(x, sqrt(2)) or Mul(x, 1/sqrt(2)),
// becomes one Gelu node (ops/gelu.cc: the vectorised erf, one pass over memory instead of five).
// Likewise the tanh GELU (transformers' gelu_new / NewGELUActivation: GPT-2, ALBERT, ...),
//   Tanh(Mul(Add(x, Mul(Pow(x, 3), 0.044715)), sqrt(2 / pi))) in place of the Erf, with the same
// tail and operands in either order, becomes Gelu(approximate = "tanh").
// Every intermediate value must be read by the chain alone and not be a graph output (the
// executor makes observed values outputs while passes run). Float tensors only.
//
// Not exact: the chain rounds after each op, Gelu once; so the executor runs it only when it
// may change bits (ExecutorOptions::optimize without exact_only: `dopt run`, never calibration).
#pragma once

#include "passes/pass.h"

namespace dopt {

class FuseGeluPass : public Pass {
 public:
  const char* name() const override { return "fuse_gelu"; }
  StatusOr<int> Run(Graph& graph) override;
};

}  // namespace dopt
