// What a writer of a quantized model is given and returns. Each frontend's writer (ONNX QDQ,
// TensorFlow GraphDef, TorchScript) turns the float graph (after the quantizer's passes) and the
// QuantPlan into the bytes of the output file; the pipeline writes them atomically. No format
// is known here: the table of writers is src/pipeline/exporters.cc.
#pragma once

#include <map>
#include <string>

#include "dopt/status.h"
#include "ir/graph.h"
#include "passes/equalize.h"
#include "quant/quant_plan.h"

namespace dopt {

struct ExportOptions {
  int activation_bits = 8;
  std::string model_path;   // --model
  std::string weight_path;  // --weight (PyTorch)
  std::string output_path;  // --output (exporters must not write it themselves)
  // equalization: true: the factors the equalization pass applied to each Conv, by node name
  // (writers that rebuild the model from its original layers apply them there).
  std::map<std::string, ChannelRescale> equalized;
};

struct ExportedModel {
  std::string bytes;       // the whole output file
  int output_opset = 0;    // ONNX only: default-domain opset written (0 elsewhere)
  std::string format_note; // one line for the summary, e.g. "TensorFlow GraphDef"
};

using ExportFn = StatusOr<ExportedModel> (*)(Graph& graph, const QuantPlan& plan, const ExportOptions& options);

}  // namespace dopt
