// Writers of the quantized model, one per source format: the model goes out in the format it
// came in (ONNX -> QDQ ONNX, TensorFlow .pb -> .pb with fake quantisation, PyTorch .py/.pth ->
// TorchScript .pt). Each exporter turns the float graph (after the quantizer's passes) and the
// QuantPlan into the bytes of the output file; the quantizer writes them atomically.
#pragma once

#include <string>

#include "dopt/status.h"
#include "ir/graph.h"
#include "quant/quant_plan.h"

namespace dopt {

struct ExportOptions {
  int activation_bits = 8;
  std::string model_path;   // --model
  std::string weight_path;  // --weight (PyTorch)
  std::string output_path;  // --output (exporters must not write it themselves)
};

struct ExportedModel {
  std::string bytes;       // the whole output file
  int output_opset = 0;    // ONNX only: default-domain opset written (0 elsewhere)
  std::string format_note; // one line for the summary, e.g. "TensorFlow GraphDef"
};

using ExportFn = StatusOr<ExportedModel> (*)(Graph& graph, const QuantPlan& plan, const ExportOptions& options);

// The exporter for graph.info.format, or an Unimplemented error naming the format.
StatusOr<ExportFn> FindExporter(const std::string& format);

// The ONNX exporter (QDQ at opset 13, or 21 for 16-bit activations).
StatusOr<ExportedModel> ExportOnnxQdq(Graph& graph, const QuantPlan& plan, const ExportOptions& options);

}  // namespace dopt
