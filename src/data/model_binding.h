// Checks the calibration request (config + flags) against a model's names and shapes, for
// any frontend: the model is described by plain structs (ModelNames), which ONNX fills from
// a dopt::Graph now and TF/PyTorch frontends fill later.
#pragma once

#include <string>
#include <vector>

#include "data/calib_config.h"
#include "data/flag_parsing.h"
#include "dopt/status.h"
#include "ir/graph.h"

namespace dopt {

struct ModelInputInfo {
  std::string name;
  bool rank_known = false;
  Shape shape;  // -1 marks an unknown dim
};

struct ModelNames {
  std::vector<ModelInputInfo> inputs;       // graph inputs, in model order
  std::vector<std::string> value_names;     // every tensor (for --out_nodes and cut points)
  std::vector<std::string> excludable;      // names exclude_op may use (ONNX: initializers + nodes)
};

// ONNX / IR graphs: inputs, every value name, and initializer + node names as excludable.
ModelNames ModelNamesFromGraph(const Graph& g);

enum class DataLayout { kNCHW, kNHWC };
StatusOr<DataLayout> ParseInputFormat(const std::string& s);  // "NCHW" / "NHWC"

// One model input bound to its calibration data.
struct CalibInput {
  std::string name;
  Shape shape;  // as given by --input_shape (model layout); shape[0] is the batch size
  bool cut_point = false;  // an inner tensor named as an input (the graph is cut there)
  PreprocessSpec data;
};

struct CalibRequest {
  CalibConfig config;
  DataLayout layout = DataLayout::kNCHW;
  std::vector<CalibInput> inputs;
  std::vector<std::string> out_nodes;  // empty: the model's own outputs
  std::vector<std::string> exclude_ops;
};

struct CalibFlags {
  std::string input_shape;   // empty: the model's own input shapes (unknown batch -> 1)
  std::string input_format = "NCHW";
  std::string out_nodes;
};

// Matches --input_shape entries to model inputs: names must exist (else the real names are
// listed), ranks equal, and every known model dim equal. Returns entries in --input_shape order.
StatusOr<std::vector<InputShapeEntry>> MatchInputShapes(const std::vector<InputShapeEntry>& given,
                                                        const ModelNames& model);
// Input shapes from the model alone (no --input_shape): unknown batch dims become 1, other
// unknown dims are an error asking for --input_shape.
StatusOr<std::vector<InputShapeEntry>> ShapesFromModel(const ModelNames& model);
// Every name must be a tensor of the model; `name:0` is accepted for `name`.
Status CheckOutNodes(const std::vector<std::string>& nodes, const ModelNames& model);
// Every exclude_op name must be excludable; unknown names list the closest real ones.
Status CheckExcludeOps(const std::vector<std::string>& names, const ModelNames& model);

// Everything together: config + flags + model -> a validated request. Checks the number of
// preprocess_parameter blocks against the inputs, the IMAGE constraints (rank 4, C of 1 or 3,
// mean/std counts) and that each data path exists.
StatusOr<CalibRequest> ResolveCalibRequest(const CalibConfig& config, const CalibFlags& flags,
                                           const ModelNames& model);

// Channel count of a rank-4 input in the given layout.
int64_t ChannelsOf(const Shape& shape, DataLayout layout);

}  // namespace dopt
