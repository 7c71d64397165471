// The PyTorch exporter: the quantized model as a TorchScript archive (.pt) of the user's own
// module, BatchNorm folded where dopt folded it, with fake quantisation at each quantized
// Conv/Linear (see docs/quantization.md). The helper builds it from dopt's plan (a JSON file).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "dopt/status.h"
#include "ir/graph.h"
#include "quant/export.h"
#include "quant/quant_plan.h"

namespace dopt {

StatusOr<ExportedModel> ExportPyTorch(Graph& graph, const QuantPlan& plan, const ExportOptions& options);

// Why the TorchScript writer refuses equalization: true. The helper rebuilds the model from the
// user's modules and carries dopt's folds as per-output-channel factors on the weight scales
// (carry_other_folds); equalization also multiplies a consumer Conv's input channels and changes
// the activation between the two Convs, which that cannot express.
inline constexpr const char* kTorchNoEqualization =
    "the TorchScript writer cannot carry cross-layer equalization (it rescales a consumer Conv's input channels and "
    "the activation between the Convs, which the rebuilt PyTorch modules cannot hold as per-output-channel "
    "factors); turn equalization off for PyTorch models, or quantize their ONNX export";

// The plan as the helper reads it: per quantized op its module, the BatchNorm module folded into
// it (or null), the input's per-tensor and the weight's per-channel parameters, and the .npy
// file (added to weight_files) with dopt's folded weight.
StatusOr<std::string> TorchPlanJson(const Graph& graph, const QuantPlan& plan,
                                    std::vector<std::pair<std::string, Tensor>>* weight_files);

}  // namespace dopt
