#include "frontends/load_model.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>

#include "common/file_util.h"

#include "data/flag_parsing.h"
#include "frontends/onnx/onnx_frontend.h"
#include "frontends/tf/tf_frontend.h"
#include "frontends/pytorch/pytorch_frontend.h"

namespace dopt {

namespace {
std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return (char)std::tolower(c); });
  return s;
}
bool EndsWith(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}
}  // namespace

StatusOr<Graph> LoadModel(const std::string& path, int framework) {
  ModelSource src;
  src.path = path;
  src.framework = framework;
  return LoadModel(src);
}

StatusOr<Graph> LoadModel(const ModelSource& source) {
  const std::string& path = source.path;
  const int framework = source.framework;
  std::string lower = Lower(path);
  if (framework != 0 && framework != 3 && framework != 5) {
    return InvalidArgument("--framework " + std::to_string(framework) + " is not supported (3 = TensorFlow, 5 = ONNX or PyTorch)");
  }
  if (framework == 3 || (framework == 0 && EndsWith(lower, ".pb"))) {
    // Cut points and outputs are applied while converting, so that ops only upstream of a
    // cut (audio decoding in front of "Mfcc", say) never need converting.
    TfLoadOptions opt;
    if (!TrimSpaces(source.input_shape).empty()) {
      DOPT_ASSIGN_OR_RETURN(std::vector<InputShapeEntry> shapes, ParseInputShape(source.input_shape));
      for (const InputShapeEntry& e : shapes) opt.inputs.emplace_back(e.name, e.dims);
    }
    if (!TrimSpaces(source.out_nodes).empty()) {
      DOPT_ASSIGN_OR_RETURN(opt.outputs, ParseOutNodes(source.out_nodes));
    }
    return LoadTfModel(path, opt);
  }
  if (EndsWith(lower, ".py")) {
    return LoadPyTorchModel(source);
  }
  return LoadOnnxModel(path);
}

std::optional<ModelInfo::SourceFile> StatSourceFile(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  ModelInfo::SourceFile f;
  char* real = realpath(path.c_str(), nullptr);  // the same file even if the working folder changes
  f.path = real ? real : path;
  std::free(real);
  f.size = (int64_t)st.st_size;
  f.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + (int64_t)st.st_mtim.tv_nsec;
  f.ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + (int64_t)st.st_ctim.tv_nsec;
  f.inode = (int64_t)st.st_ino;
  f.device = (int64_t)st.st_dev;
  return f;
}

StatusOr<std::shared_ptr<const std::string>> ModelSourceBytes(const ModelInfo& info) {
  if (info.source_bytes || !info.source_file) return info.source_bytes;
  const ModelInfo::SourceFile& f = *info.source_file;
  auto changed = [&] {
    return InvalidArgument(f.path + ": the model file changed while dopt ran (dopt reads it again to write the "
                           "output); nothing was written, run dopt again");
  };
  if (StatSourceFile(f.path) != f) return changed();
  DOPT_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(f.path));
  if ((int64_t)bytes.size() != f.size || StatSourceFile(f.path) != f) return changed();
  return std::make_shared<const std::string>(std::move(bytes));
}

}  // namespace dopt
