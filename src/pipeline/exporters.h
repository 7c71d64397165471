// The writer of a quantized model for each source format: the model goes out in the format it
// came in (ONNX -> QDQ ONNX, TensorFlow .pb -> .pb with fake quantisation, PyTorch .py/.pth ->
// TorchScript .pt). The writers live in their frontends; this is the one table of them.
#pragma once

#include <string>

#include "dopt/status.h"
#include "quant/export.h"

namespace dopt {

// The exporter for graph.info.format, or an Unimplemented error naming the format.
StatusOr<ExportFn> FindExporter(const std::string& format);

}  // namespace dopt
