// The writer of a quantized model for each source format: the model goes out in the format it
// came in (ONNX -> QDQ ONNX, TensorFlow .pb -> .pb with fake quantisation, PyTorch .py/.pth ->
// TorchScript .pt). The writers live in their frontends; this is the one table of them.
#pragma once

#include <string>

#include "dopt/status.h"
#include "quant/export.h"

namespace dopt {

// A writer and what it can store beyond int8 activation x int8 constant weight (+ int32 bias).
struct Exporter {
  ExportFn fn = nullptr;
  const char* writer = "";        // for messages: "the TensorFlow writer cannot ..."
  bool activation_pairs = false;  // a MatMul of two activations, both quantized
  bool second_weights = false;    // an op with two quantized weights (LSTM/GRU/RNN's W and R)
  bool smoothing = false;         // activations divided per channel, weights multiplied (smooth_quant_alpha)
  bool activation_only = false;   // an op without weights whose input alone is quantized (quantize_op_type)
  // Why second_weights is false, when it is not "the <writer> writer cannot ... yet".
  const char* second_weights_off_reason = nullptr;
};

// The exporter for graph.info.format, or an Unimplemented error naming the format.
StatusOr<Exporter> FindExporter(const std::string& format);

}  // namespace dopt
