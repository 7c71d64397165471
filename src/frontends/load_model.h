// Picks the frontend for a model file: --framework 3 = TensorFlow .pb, 5 = ONNX (.onnx) or
// PyTorch (.py + --weight). Framework 0 means "guess from the file name".
#pragma once

#include <string>

#include "dopt/status.h"
#include "ir/graph.h"

namespace dopt {

StatusOr<Graph> LoadModel(const std::string& path, int framework);

}  // namespace dopt
