// PyTorch models: a .py that defines the model and a .pth with its weights. The helper script
// (torch_helper_process.h) exports the model to ONNX, which is loaded like any ONNX model; the
// nodes that run a Conv/Linear module's weight are renamed after the module (`features.3.conv`)
// so the plan, the compress_conf and exclude_op speak the user's module names.
#pragma once

#include <string>

#include "dopt/status.h"
#include "frontends/load_model.h"
#include "ir/graph.h"

namespace dopt {

// Graph.info.format = "pytorch". Graph.info.metadata keeps what the exporter needs
// (keys in pytorch_names.h).
StatusOr<Graph> LoadPyTorchModel(const ModelSource& source);

}  // namespace dopt
