// Marks the ops to quantize: nodes of weighted ops (QuantTraits::Role::kWeighted in the op's
// file: Conv, ConvTranspose, Gemm, MatMul) whose weight is a float initializer and whose
// activation is a float tensor; the traits say which input is which, the weight's channel
// axis and whether the bias can be int32. Nodes of weighted ops that do not qualify are
// recorded as excluded with the reason; nodes of ops that are already quantized
// (Role::kQuantized: QLinearConv, MatMulInteger, ...) are listed by type. Unnamed (or
// duplicate-named) quantizable nodes get a unique name, since the plan refers to ops by name;
// that is the only change it makes to the graph.
#pragma once

#include <set>
#include <string>

#include "passes/pass.h"
#include "quant/quant_selection.h"

namespace dopt {

// Names the plan can refer ops by: a selected node without a name, or with one an earlier
// selected node took, is renamed `<name or op type>_<node index>` (made unique in the graph).
class SelectedNames {
 public:
  explicit SelectedNames(const Graph& g);
  // Takes node i's name for a selected op, renaming the node first when needed; true when renamed.
  bool Take(Graph& g, int i);

 private:
  std::set<std::string> used_, taken_;
};

class MarkQuantizablePass : public Pass {
 public:
  explicit MarkQuantizablePass(QuantSelection* selection, QuantSelectionOptions options = {})
      : sel_(selection), opt_(std::move(options)) {}
  const char* name() const override { return "mark_quantizable"; }
  StatusOr<int> Run(Graph& graph) override;

 private:
  QuantSelection* sel_;
  QuantSelectionOptions opt_;
};

}  // namespace dopt
