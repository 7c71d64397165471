// Turns the selection and the calibrated activation ranges into a QuantPlan's ops: weight
// params (per channel along the candidate's axis, or per tensor), activation params per
// tensor (asymmetric unless asked otherwise; 16-bit activations are symmetric), int32 bias
// params. An op whose activation was never observed during calibration is excluded. The
// graph is not changed.
#pragma once

#include <map>
#include <string>

#include "calib/range_methods.h"
#include "passes/pass.h"
#include "quant/quant_plan.h"
#include "quant/quant_selection.h"

namespace dopt {

struct QuantParamOptions {
  int activation_bits = 8;
  int weight_bits = 8;
  bool per_channel = true;
  bool symmetric_activations = false;
};

class ComputeQuantParamsPass : public Pass {
 public:
  // `ranges`: calibrated range per activation tensor name.
  ComputeQuantParamsPass(const QuantSelection* selection, const std::map<std::string, FloatRange>* ranges,
                         QuantParamOptions options, QuantPlan* plan)
      : sel_(selection), ranges_(ranges), opt_(options), plan_(plan) {}
  const char* name() const override { return "compute_quant_params"; }
  StatusOr<int> Run(Graph& graph) override;

 private:
  const QuantSelection* sel_;
  const std::map<std::string, FloatRange>* ranges_;
  QuantParamOptions opt_;
  QuantPlan* plan_;
};

}  // namespace dopt
