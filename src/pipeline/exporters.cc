#include "pipeline/exporters.h"

#include "frontends/onnx/qdq_writer.h"
#include "frontends/tf/tf_exporter.h"
#include "frontends/pytorch/pytorch_exporter.h"

namespace dopt {

namespace {

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

}  // namespace dopt
