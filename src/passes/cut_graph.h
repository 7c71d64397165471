// Applies the original tool's --input_shape and --out_nodes to a graph: named inputs get the
// given shapes (an inner tensor named as an input becomes a graph input: the graph is cut
// there), the named tensors become the graph outputs, and nodes that no output needs any
// more are removed, as are graph inputs nothing reads. Known model dims must equal the given
// ones (ResolveCalibRequest checked that already; this checks again).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "passes/pass.h"

namespace dopt {

class CutGraphPass : public Pass {
 public:
  // `inputs`: tensor name -> shape (empty list: inputs unchanged); `outputs`: tensor names,
  // `name:0` accepted for `name` (empty: the graph's own outputs).
  CutGraphPass(std::vector<std::pair<std::string, Shape>> inputs, std::vector<std::string> outputs)
      : inputs_(std::move(inputs)), outputs_(std::move(outputs)) {}
  const char* name() const override { return "cut_graph"; }
  StatusOr<int> Run(Graph& graph) override;

 private:
  std::vector<std::pair<std::string, Shape>> inputs_;
  std::vector<std::string> outputs_;
};

}  // namespace dopt
