// The PyTorch exporter: the quantized model as a TorchScript archive (.pt) of the user's own
// module, BatchNorm folded where dopt folded it, with fake quantisation at each quantized
// Conv/Linear (see docs/quantization.md). The helper builds it from dopt's plan (a JSON file).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "dopt/status.h"
#include "ir/graph.h"
#include "quant/export.h"
#include "quant/quant_plan.h"

namespace dopt {

StatusOr<ExportedModel> ExportPyTorch(Graph& graph, const QuantPlan& plan, const ExportOptions& options);

// The plan as the helper reads it: per quantized op its module, the BatchNorm module folded into
// it (or null), the input's per-tensor and the weight's per-channel parameters, and the .npy
// file (added to weight_files) with dopt's folded weight. With equalization, "equalized" lists
// every rescaled Conv (quantized or not) with its module, its folded BatchNorm and its factors:
// the helper rescales those modules the same way (after folding the BatchNorm), so the rebuilt
// model holds dopt's equalized weights; it checks that the float outputs did not change.
StatusOr<std::string> TorchPlanJson(const Graph& graph, const QuantPlan& plan,
                                    std::vector<std::pair<std::string, Tensor>>* weight_files,
                                    const std::map<std::string, ChannelRescale>& equalized = {});

}  // namespace dopt
