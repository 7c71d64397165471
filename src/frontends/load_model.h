// Picks the frontend for a model file: --framework 3 = TensorFlow .pb, 5 = ONNX (.onnx) or
// PyTorch (.py + --weight). Framework 0 means "guess from the file name".
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "dopt/status.h"
#include "ir/graph.h"

namespace dopt {

// Everything a frontend may need to turn the user's files into an IR graph.
struct ModelSource {
  std::string path;         // --model: .onnx, .pb or .py
  int framework = 0;        // --framework (0: from the file name)
  std::string weight;       // --weight: PyTorch weights (.pth) for a .py model
  std::string input_shape;  // --input_shape as given (PyTorch export needs the shapes)
  std::string out_nodes;    // --out_nodes as given (a TF graph is converted only up to them)
  std::string model_class;  // --model_class: picks the module in a .py with several candidates
};

// Graph.info.format is "onnx", "tf" or "pytorch"; exporters (quant/exporters.h) write the
// quantized model back in that format.
StatusOr<Graph> LoadModel(const ModelSource& source);
// Shorthand for models that need nothing but a path (ONNX, TensorFlow).
StatusOr<Graph> LoadModel(const std::string& path, int framework);

// A regular file's identity (ModelInfo::source_file: absolute path, size, times, inode,
// device); nullopt when `path` is not a regular file.
std::optional<ModelInfo::SourceFile> StatSourceFile(const std::string& path);
// The bytes of the file a graph was read from: info.source_bytes when held; else the file of
// info.source_file read again, an error when it is no longer the same file (checked before and
// after the read); nullptr when the graph has neither.
StatusOr<std::shared_ptr<const std::string>> ModelSourceBytes(const ModelInfo& info);

}  // namespace dopt
