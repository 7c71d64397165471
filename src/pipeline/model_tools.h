// Running a model and the model-rewriting tools, for `dopt run` and the hidden test commands.
#pragma once

#include <string>
#include <vector>

#include "dopt/status.h"

namespace dopt {

// `dopt run`: loads the model (cut at inner --input tensors and --out_nodes), optionally applies
// a compress_conf's quantization (the int8 simulation), runs it on the input files and writes
// every output as DIR/<output name>.npy; nothing is written when anything fails.
struct RunRequest {
  std::string model;
  int framework = 0;
  std::vector<std::string> inputs;
  std::string output_dir;
  int num_threads = 0;
  int repeat = 0;
  std::string compress_conf;  // simulate the int8 model described by this file
  std::string out_nodes;      // "a; b": outputs other than the model's own
  std::string weight;         // PyTorch: the .pth of a .py model
  std::string model_class;    // PyTorch: the module to run
};
Status RunModel(const RunRequest& request);

// `dopt resave`: model -> dopt IR -> ONNX (a TF .pb: the GraphDef parsed and written back).
Status Resave(const std::string& model, const std::string& output);

// `dopt qdq-export`: model + compress_conf -> QDQ ONNX model, without calibrating.
struct QdqExportRequest {
  std::string model, compress_conf, output;
  int framework = 0;
};
Status QdqExport(const QdqExportRequest& request);

// `dopt upgrade-opset`: an ONNX model rewritten for a newer default-domain opset.
struct UpgradeRequest {
  std::string model, output;
  int opset = 13;
};
Status UpgradeModel(const UpgradeRequest& request);

}  // namespace dopt
