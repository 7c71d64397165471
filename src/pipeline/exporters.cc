#include "pipeline/exporters.h"

#include "frontends/onnx/qdq_writer.h"
#include "frontends/tf/tf_exporter.h"
#include "frontends/pytorch/pytorch_exporter.h"

namespace dopt {

namespace {

struct ExporterEntry {
  const char* format;
  Exporter exporter;
};

// One line per output format. The QDQ writer places Q/DQ on any op input; the TensorFlow and
// TorchScript writers wrap the weighted layers they know (Conv, Dense/Linear, ...) with fake
// quantization of their activation and weights, and the products of two activations with fake
// quantization of both; smoothed activations and ops without weights (quantize_op_type) are
// ONNX-only for now.
const ExporterEntry kExporters[] = {
    {"onnx", {.fn = &ExportOnnxQdq, .writer = "ONNX", .activation_pairs = true, .second_weights = true, .smoothing = true, .activation_only = true}},
    // TF graphs run their recurrences as While loops of plain ops: the TF frontend makes no
    // LSTM/GRU/RNN op, so a second weight never reaches this writer.
    {"tf",
     {.fn = &ExportTfGraphDef,
      .writer = "TensorFlow",
      .activation_pairs = true,
      .second_weights = false,
      .second_weights_off_reason = "the TensorFlow frontend imports no recurrent op (LSTM/GRU/RNN) whose weights "
                                   "the TensorFlow writer could store"}},
    {"pytorch", {.fn = &ExportPyTorch, .writer = "TorchScript", .activation_pairs = true, .second_weights = true}},
};

}  // namespace

StatusOr<Exporter> FindExporter(const std::string& format) {
  for (const ExporterEntry& e : kExporters)
    if (format == e.format) return e.exporter;
  return Unimplemented("quantized models cannot be written in the '" + format + "' format yet");
}

}  // namespace dopt
