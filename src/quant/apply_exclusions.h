// Applies the config's exclude_op list to the ops marked for quantization. For ONNX a name
// may be a node name or the name of one of the node's initializers (its weight or bias). An
// excluded op keeps float inputs; it moves to QuantSelection::excluded with the reason.
// Names were validated against the model beforehand (ResolveCalibRequest); a name that
// matches no quantizable op (e.g. a Relu) changes nothing. The graph is not changed.
#pragma once

#include <string>
#include <vector>

#include "passes/pass.h"
#include "quant/quant_selection.h"

namespace dopt {

class ApplyExclusionsPass : public Pass {
 public:
  ApplyExclusionsPass(std::vector<std::string> names, QuantSelection* selection)
      : names_(std::move(names)), sel_(selection) {}
  const char* name() const override { return "apply_exclusions"; }
  StatusOr<int> Run(Graph& graph) override;

 private:
  std::vector<std::string> names_;
  QuantSelection* sel_;
};

}  // namespace dopt
