// ONNX in and out. The protobuf types stay inside this folder.
#pragma once

#include <string>

#include "dopt/status.h"
#include "ir/graph.h"

namespace dopt {

struct OnnxLoadOptions {
  bool prepare = true;  // resolve ops, sort, verify and infer shapes
};

// Reads an ONNX model (IR 3 and newer, default-domain opsets 7 and newer), with its
// external data files, into the IR. Errors name the file and the cause.
StatusOr<Graph> LoadOnnxModel(const std::string& path, const OnnxLoadOptions& options = {});
StatusOr<Graph> LoadOnnxModelFromBytes(const std::string& bytes, const std::string& name,
                                       const std::string& base_dir, const OnnxLoadOptions& options = {});

// Serialises the graph as ONNX. Nodes, initializers and value infos that were loaded and
// not changed are written exactly as they were read (unknown fields included); model-level
// fields (opsets, metadata, producer, unknown fields) come from the source model.
//
// keep_open_input_dims (the quantized model): a graph input whose dims the source left open (a
// dim_param or no value: a dynamic batch) and --input_shape fixed for calibration keeps the
// source's declaration when the graph still infers shapes with those dims changed (nothing
// baked them in, e.g. a Reshape to a folded [1, -1]); outputs written anew then leave the dims
// that follow them open. Otherwise the input is written with the fixed dims.
struct SerializeOptions {
  bool keep_open_input_dims = false;
};
StatusOr<std::string> SerializeOnnxModel(const Graph& graph, const SerializeOptions& options = {});
// SerializeOnnxModel + atomic write; refuses to overwrite the graph's own source file.
Status SaveOnnxModel(const Graph& graph, const std::string& path);

}  // namespace dopt

namespace dopt {
// Reads a serialized ONNX TensorProto file (as in ONNX's node tests: input_0.pb).
StatusOr<Tensor> ReadOnnxTensorFile(const std::string& path);
}  // namespace dopt
