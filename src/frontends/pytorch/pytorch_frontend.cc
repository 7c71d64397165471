#include "frontends/pytorch/pytorch_frontend.h"

#include <sys/stat.h>

#include <algorithm>
#include <sstream>

#include "common/file_util.h"
#include "data/calib_config.h"
#include "frontends/onnx/onnx_frontend.h"
#include "frontends/pytorch/pytorch_names.h"
#include "frontends/pytorch/torch_helper_process.h"
#include "passes/pass.h"

namespace dopt {

namespace {

// torch.onnx deduplicates parameters with equal values: the second one becomes
// `name = Identity(first)`. dopt's passes want every weight to be an initializer of its own
// (a BatchNorm whose bias is such a copy would not fold), so the copies are made real again.
int UndoInitializerDedup(Graph& g) {
  std::vector<int> dead;
  for (int i = 0; i < (int)g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (n.op_type != "Identity" || n.inputs.size() != 1 || n.outputs.size() != 1 || n.inputs[0] < 0) continue;
    const Value& in = g.value(n.inputs[0]);
    Value& out = g.value(n.outputs[0]);
    if (!in.initializer || out.initializer ||
        std::find(g.outputs.begin(), g.outputs.end(), n.outputs[0]) != g.outputs.end())
      continue;
    out.initializer = *in.initializer;
    out.folded.reset();
    out.producer = -1;
    out.dirty = true;
    dead.push_back(i);
  }
  RemoveNodes(g, dead);
  return (int)dead.size();
}

}  // namespace

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
  UndoInitializerDedup(g);
  NameNodesAfterModules(g, modules);
  g.info.format = "pytorch";
  g.info.path = source.path;
  g.info.metadata.emplace_back(kTorchModelClass, source.model_class);
  g.info.metadata.emplace_back(kTorchInputShape, source.input_shape);
  g.info.metadata.emplace_back(kTorchWeight, source.weight);
  return g;
}

}  // namespace dopt
