// Turns the selection and the calibrated activation ranges into a QuantPlan's ops: weight
// params (per channel along the candidate's axis, or per tensor), activation params per
// tensor (asymmetric unless asked otherwise; 16-bit activations are symmetric), int32 bias
// params. An op whose activation was never observed during calibration is excluded. The
// graph is not changed.
#pragma once

#include <map>
#include <string>

#include "calib/range_methods.h"
#include "dopt/status.h"
#include "ir/graph.h"
#include "quant/quant_plan.h"
#include "quant/quant_selection.h"

namespace dopt {

struct QuantParamOptions {
  int activation_bits = 8;
  int weight_bits = 8;
  bool per_channel = true;
  bool symmetric_activations = false;
  // Mixed precision: activation bits of single ops (node name -> 16), overriding
  // activation_bits; their inputs take `wide_ranges` (the observed min/max: at 16 bits
  // nothing needs clipping) when it has them.
  std::map<std::string, int> op_activation_bits;
  const std::map<std::string, FloatRange>* wide_ranges = nullptr;
  // x86_saturation_safe: "NONE", "FIRST_LAYER" (the first op of the plan with constant
  // weights) or "ALL": those ops' int8 weights are limited to [-kX86SafeWeightLimit,
  // kX86SafeWeightLimit] (QuantizedOp::weight_limit), so that vpmaddubsw's int16 sum of two
  // u8 x s8 products cannot saturate: 255 * 64 * 2 = 32640 <= 32767. Bias scales follow.
  std::string x86_saturation_safe = "NONE";
};

constexpr int kX86SafeWeightLimit = 64;

// An analysis, not a graph pass: reads `graph`, `selection` and the calibrated range of each
// activation tensor (`ranges`, by tensor name) and fills `plan`'s ops and excluded ops.
Status ComputeQuantParams(const Graph& graph, const QuantSelection& selection,
                          const std::map<std::string, FloatRange>& ranges, const QuantParamOptions& options,
                          QuantPlan* plan);

}  // namespace dopt
