#include "frontends/pytorch/pytorch_frontend.h"

#include <sys/stat.h>

#include <sstream>

#include "common/file_util.h"
#include "data/calib_config.h"
#include "frontends/onnx/onnx_frontend.h"
#include "frontends/pytorch/pytorch_names.h"
#include "frontends/pytorch/torch_helper_process.h"

namespace dopt {

StatusOr<Graph> LoadPyTorchModel(const ModelSource& source) {
  const std::string context = source.path + (source.weight.empty() ? "" : " (weights " + source.weight + ")");
  if (source.weight.empty()) {
    return InvalidArgument(source.path + ": a PyTorch model needs its weights: give the .pth file with --weight");
  }
  struct stat st_file;
  if (stat(source.path.c_str(), &st_file) != 0) return NotFound("--model " + AbsolutePath(source.path) + " does not exist");
  if (stat(source.weight.c_str(), &st_file) != 0) return NotFound("--weight " + AbsolutePath(source.weight) + " does not exist");
  DOPT_ASSIGN_OR_RETURN(TempDir dir, TempDir::Create());
  Status st = RunTorchHelper({"export", "--model", AbsolutePath(source.path), "--weight", AbsolutePath(source.weight),
                              "--model_class", source.model_class, "--input_shape", source.input_shape, "--out_dir",
                              dir.path()},
                             dir.path());
  if (!st.ok()) return st.WithContext(context);
  DOPT_ASSIGN_OR_RETURN(std::string onnx, ReadFileToString(JoinPath(dir.path(), "model.onnx")));
  DOPT_ASSIGN_OR_RETURN(std::string map_text, ReadFileToString(JoinPath(dir.path(), "model.map")));
  std::map<std::string, std::string> modules;  // leaf module -> class name
  std::istringstream lines(map_text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream f(line);
    std::string kind, name, type;
    std::getline(f, kind, '\t');
    std::getline(f, name, '\t');
    std::getline(f, type, '\t');
    if (kind == "module") modules[name] = type;
  }
  StatusOr<Graph> loaded = LoadOnnxModelFromBytes(onnx, source.path, dir.path());
  if (!loaded.ok()) return loaded.status().WithContext(context + ": the model exported by torch.onnx");
  Graph g = std::move(*loaded);
  NameNodesAfterModules(g, modules);
  g.info.format = "pytorch";
  g.info.path = source.path;
  g.info.metadata.emplace_back(kTorchModelClass, source.model_class);
  g.info.metadata.emplace_back(kTorchInputShape, source.input_shape);
  g.info.metadata.emplace_back(kTorchWeight, source.weight);
  return g;
}

}  // namespace dopt
