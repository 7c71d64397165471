// The graph preparation that quantization works on. The QuantPlan's tensor and node names
// refer to the graph AFTER these passes, so the quantizer (-m 0) and the int8 simulation
// (dopt run --compress_conf) must both call this same function before using a plan.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "dopt/status.h"
#include "ir/graph.h"
#include "passes/equalize.h"
#include "passes/pass.h"

namespace dopt {

// Runs the passes that rewrite the float model before quantization, in a fixed order: fold
// every value computable from constants alone into an initializer (fold_constants), then fold
// BatchNormalization into the preceding Conv/ConvTranspose, then fold Mul/Div/Add/Sub by
// per-channel constants into the preceding Conv/ConvTranspose/Gemm (fold_affine); both are
// repeated until neither changes anything, so Conv -> Add(bias) -> BatchNormalization (the
// TensorFlow Conv2D -> BiasAdd -> FusedBatchNorm pattern) folds entirely into the Conv.
//
// With `equalization` (the config's `equalization: true`, recorded in the compress_conf), the
// cross-layer equalization pass (passes/equalize.h) runs last, on the folded graph; it reports
// "equalize" (chains rescaled) and "equalize_channels" (channels rescaled); `rescaled`, when
// given, receives the factors it applied to each Conv (for the TorchScript writer).
struct PrepareOptions {
  bool equalization = false;
};

Status PrepareForQuantization(Graph& graph, std::vector<PassReport>* reports = nullptr,
                              const PrepareOptions& options = {},
                              std::map<std::string, ChannelRescale>* rescaled = nullptr);

}  // namespace dopt
