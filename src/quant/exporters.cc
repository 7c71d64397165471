#include "quant/exporters.h"

#include "frontends/onnx/onnx_frontend.h"
#include "frontends/tf/tf_exporter.h"
#include "frontends/pytorch/pytorch_exporter.h"
#include "passes/upgrade_opset.h"
#include "quant/qdq.h"

namespace dopt {

namespace {

int DefaultOpset(const Graph& g) {
  for (const auto& [domain, version] : g.info.opsets)
    if (domain.empty() || domain == "ai.onnx") return (int)version;
  return 0;
}

struct ExporterEntry {
  const char* format;
  ExportFn fn;
};

// One line per output format.
const ExporterEntry kExporters[] = {
    {"onnx", &ExportOnnxQdq},
    {"tf", &ExportTfGraphDef},
    {"pytorch", &ExportPyTorch},
};

}  // namespace

StatusOr<ExportFn> FindExporter(const std::string& format) {
  for (const ExporterEntry& e : kExporters)
    if (format == e.format) return e.fn;
  return Unimplemented("quantized models cannot be written in the '" + format + "' format yet");
}

StatusOr<ExportedModel> ExportOnnxQdq(Graph& graph, const QuantPlan& plan, const ExportOptions& o) {
  // Opset 13 at least, for per-channel DequantizeLinear; 21 for the int16
  // QuantizeLinear/DequantizeLinear of 16-bit activations.
  const int qdq_opset = o.activation_bits > 8 ? 21 : 13;
  if (!plan.ops.empty() && DefaultOpset(graph) < qdq_opset) {
    DOPT_RETURN_IF_ERROR(UpgradeOpset(graph, qdq_opset)
                             .WithContext(o.model_path + ": upgrading to opset " + std::to_string(qdq_opset) + " for QDQ"));
  }
  DOPT_RETURN_IF_ERROR(InsertQDQ(graph, plan).WithContext(o.model_path));
  ExportedModel out;
  out.output_opset = DefaultOpset(graph);
  out.format_note = "ONNX";
  DOPT_ASSIGN_OR_RETURN(out.bytes, SerializeOnnxModel(graph));
  return out;
}

}  // namespace dopt
