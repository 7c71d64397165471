// `dopt run` (a model on input files, outputs as .npy, optionally as the int8 simulation of a
// compress_conf) and the hidden test tools resave, qdq-export and upgrade-opset.
#include "pipeline/model_tools.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "data/bin_file.h"
#include "data/flag_parsing.h"
#include "executor/executor.h"
#include "frontends/load_model.h"
#include "frontends/onnx/onnx_frontend.h"
#include "frontends/onnx/qdq_writer.h"
#include "frontends/tf/tf_frontend.h"
#include "io/npy.h"
#include "ir/tensor_cast.h"
#include "passes/cut_graph.h"
#include "passes/pass.h"
#include "passes/upgrade_opset.h"
#include "quant/bias_correction.h"
#include "quant/smooth_quant.h"
#include "quant/compress_conf.h"
#include "quant/prepare.h"

namespace dopt {

static std::string SafeFileName(const std::string& name) {
  std::string s = name;
  for (char& c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  return s;
}

static StatusOr<Tensor> ReadInputFile(const std::string& path) {
  std::string lower = path;
  for (char& c : lower) c = (char)std::tolower((unsigned char)c);
  if (lower.size() >= 4 && lower.compare(lower.size() - 4, 4, ".bin") == 0) return ReadBinFile(path);
  return ReadNpy(path);
}

// The executor checks feeds too; checking here lets the message name the data file.
static Status CheckFeed(const Value& v, const Tensor& t) {
  if (ComputeDType(t.dtype()) != ComputeDType(v.dtype)) {
    return InvalidArgument(std::string("holds ") + DTypeName(t.dtype()) + " data, model input '" + v.name +
                                 "' is " + DTypeName(v.dtype));
  }
  if (!v.rank_known) return Status::Ok();
  bool ok = t.rank() == (int)v.shape.size();
  for (size_t d = 0; ok && d < v.shape.size(); ++d)
    if (v.shape[d] >= 0 && v.shape[d] != t.dim((int)d)) ok = false;
  if (ok) return Status::Ok();
  return InvalidArgument("has shape " + ShapeToString(t.shape()) + ", model input '" + v.name +
                               "' expects " + ShapeToString(v.shape));
}

// mkdir -p.
static Status MakeDirs(const std::string& dir) {
  if (dir.empty()) return Status::Ok();
  struct stat st;
  if (stat(dir.c_str(), &st) == 0) {
    return S_ISDIR(st.st_mode) ? Status::Ok() : InvalidArgument(dir + ": exists and is not a directory");
  }
  std::string parent = DirName(dir);
  if (parent != dir && parent != "." && parent != "/") DOPT_RETURN_IF_ERROR(MakeDirs(parent));
  if (mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) {
    return IoError(dir + ": cannot create directory: " + std::strerror(errno));
  }
  return Status::Ok();
}

// dopt resave: model -> dopt IR -> ONNX, for round-trip tests. Not part of the documented CLI.
Status Resave(const std::string& model, const std::string& output) {
  if (SameFile(model, output)) return InvalidArgument(output + ": refusing to overwrite the input model");
  if (model.size() >= 3 && model.compare(model.size() - 3, 3, ".pb") == 0) {  // TF: the GraphDef parsed and written back
    DOPT_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(model));
    DOPT_ASSIGN_OR_RETURN(std::string out, ReserializeTfGraphDef(bytes, model));
    return WriteFileAtomic(output, out);
  }
  DOPT_ASSIGN_OR_RETURN(Graph graph, LoadModel(model, 0));
  return SaveOnnxModel(graph, output);
}


// A PyTorch model is exported for fixed input shapes: those of the --input files
// ("NAME: d0,d1,...; ..." as --input_shape; a lone unnamed file is forward()'s first input).
static StatusOr<std::string> InputShapeFromFiles(const std::vector<std::string>& inputs) {
  std::string text;
  for (const std::string& spec : inputs) {
    size_t eq = spec.find('=');
    std::string name = eq == std::string::npos ? "" : spec.substr(0, eq);
    std::string file = eq == std::string::npos ? spec : spec.substr(eq + 1);
    DOPT_ASSIGN_OR_RETURN(Tensor t, ReadInputFile(file));
    std::string dims;
    for (int d = 0; d < t.rank(); ++d) dims += (d ? "," : "") + std::to_string(t.dim(d));
    text += (text.empty() ? "" : "; ") + name + ": " + dims;
  }
  return text;
}

Status RunModel(const RunRequest& a) {
  struct stat st;
  if (stat(a.output_dir.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
    return InvalidArgument(a.output_dir + ": --output_dir exists and is not a directory");
  }
  // NAME=FILE inputs that name inner tensors cut the graph there (a TF graph run from "Mfcc"):
  // their files' shapes are the cut shapes.
  ModelSource source;
  source.path = a.model;
  source.framework = a.framework;
  source.out_nodes = a.out_nodes;
  source.weight = a.weight;
  source.model_class = a.model_class;
  std::vector<std::pair<std::string, Shape>> cut_shapes;
  for (const std::string& spec : a.inputs) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos) continue;
    DOPT_ASSIGN_OR_RETURN(Tensor t, ReadInputFile(spec.substr(eq + 1)));
    bool positive = t.rank() > 0;
    for (int64_t d : t.shape()) positive = positive && d > 0;
    if (!positive) continue;
    cut_shapes.emplace_back(spec.substr(0, eq), t.shape());
    std::string dims;
    for (int64_t d : t.shape()) dims += (dims.empty() ? "" : ",") + std::to_string(d);
    source.input_shape += (source.input_shape.empty() ? "" : "; ") + spec.substr(0, eq) + ": " + dims;
  }
  if (a.model.size() >= 3 && a.model.compare(a.model.size() - 3, 3, ".py") == 0) {
    DOPT_ASSIGN_OR_RETURN(source.input_shape, InputShapeFromFiles(a.inputs));
  }
  DOPT_ASSIGN_OR_RETURN(Graph graph, LoadModel(source));
  {
    std::vector<std::pair<std::string, Shape>> inner;
    for (const auto& kv : cut_shapes) {
      int id = graph.FindValue(kv.first);
      if (id >= 0 && graph.value(id).producer >= 0) inner.push_back(kv);
    }
    std::vector<std::string> outs;
    if (!TrimSpaces(a.out_nodes).empty()) {
      DOPT_ASSIGN_OR_RETURN(outs, ParseOutNodes(a.out_nodes));
    }
    if (!inner.empty() || !outs.empty()) {
      PassManager cut;
      cut.Add(std::make_unique<CutGraphPass>(inner, outs));
      DOPT_RETURN_IF_ERROR(cut.Run(graph).WithContext(a.model));
    }
  }
  if (!a.compress_conf.empty()) {  // the int8 model: same preparation as -m 0, then Q/DQ
    DOPT_ASSIGN_OR_RETURN(QuantPlan plan, ReadCompressConf(a.compress_conf));
    PrepareOptions po;
    po.equalization = plan.equalization;  // the plan's weights are the equalized ones
    DOPT_RETURN_IF_ERROR(PrepareForQuantization(graph, nullptr, po).WithContext(a.model));
    DOPT_RETURN_IF_ERROR(ApplySmoothing(graph, plan).WithContext(a.compress_conf));  // and the smoothed ones
    DOPT_RETURN_IF_ERROR(ApplyBiasCorrections(graph, plan).WithContext(a.compress_conf));
    QdqOptions qo;
    qo.check_opset = false;
    DOPT_RETURN_IF_ERROR(InsertQDQ(graph, plan, qo).WithContext(a.compress_conf));
  }
  std::map<std::string, Tensor> feeds;
  for (const std::string& spec : a.inputs) {
    size_t eq = spec.find('=');
    std::string name, file;
    if (eq == std::string::npos) {
      if (graph.inputs.size() != 1 || a.inputs.size() != 1) {
        return InvalidArgument("--input '" + spec + "' must be NAME=FILE when the model has several inputs");
      }
      name = graph.value(graph.inputs[0]).name;
      file = spec;
    } else {
      name = spec.substr(0, eq);
      file = spec.substr(eq + 1);
    }
    int id = graph.FindValue(name);
    if (id < 0 && name.size() > 2 && name.compare(name.size() - 2, 2, ":0") == 0) {  // TF's "x:0" is "x"
      name.resize(name.size() - 2);
      id = graph.FindValue(name);
    }
    if (id < 0 || std::find(graph.inputs.begin(), graph.inputs.end(), id) == graph.inputs.end()) {
      std::string names;
      for (int in : graph.inputs) names += (names.empty() ? "" : ", ") + graph.value(in).name;
      return InvalidArgument(a.model + ": --input '" + spec + "': '" + name +
                                   "' is not an input of the model (inputs: " + names + ")");
    }
    DOPT_ASSIGN_OR_RETURN(Tensor t, ReadInputFile(file));
    if (t.dtype() != graph.value(id).dtype && IsFloat(t.dtype()) && IsFloat(graph.value(id).dtype)) {
      t = t.CastTo(graph.value(id).dtype);  // float32 data for a float16 input and the like
    } else if (t.dtype() != graph.value(id).dtype && (IsInteger(t.dtype()) || t.dtype() == DType::kBool) &&
               (IsInteger(graph.value(id).dtype) || IsFloat(graph.value(id).dtype))) {
      // Integer data for an input of another integer or float type (uint16 .npy for an int64 input,
      // int32 ids for int64): converted when every value is exact in the input's type.
      int64_t bad = -1;
      auto c = CastExactly(t, graph.value(id).dtype, &bad);
      if (!c.ok()) {
        return InvalidArgument(file + ": holds " + DTypeName(t.dtype()) + " value " +
                               std::to_string((long long)t.ToDoubleVector()[(size_t)bad]) + " (element " +
                               std::to_string(bad) + "), which model input '" + name + "' (" +
                               DTypeName(graph.value(id).dtype) + ") cannot hold exactly");
      }
      t = std::move(*c);
    }
    DOPT_RETURN_IF_ERROR(CheckFeed(graph.value(id), t).WithContext(file));
    if (feeds.count(name)) return InvalidArgument("--input '" + spec + "': input '" + name + "' is given twice");
    feeds[name] = std::move(t);
  }
  ExecutorOptions opts;
  opts.num_threads = a.num_threads;
  opts.optimize = true;  // execution-only rewrites (BN folding, Conv+activation fusion)
  DOPT_ASSIGN_OR_RETURN(auto exec, Executor::Create(graph, opts));
  std::map<std::string, Tensor> outputs;
  DOPT_RETURN_IF_ERROR(exec->Run(feeds, &outputs).WithContext(a.model));
  if (a.repeat > 0) {  // time the forward pass alone, without start-up
    std::vector<double> ms;
    for (int i = 0; i < a.repeat; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      DOPT_RETURN_IF_ERROR(exec->Run(feeds, &outputs).WithContext(a.model));
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("forward_ms_median: %.3f\nforward_ms_min: %.3f\n", ms[ms.size() / 2], ms[0]);
  }
  // Only now, with every output computed, is anything written: a failed run leaves no files.
  std::map<std::string, std::string> paths;  // output name -> file
  std::map<std::string, std::string> owner;  // file -> output name
  for (const auto& kv : outputs) {
    std::string path = JoinPath(a.output_dir, SafeFileName(kv.first) + ".npy");
    auto [it, fresh] = owner.emplace(path, kv.first);
    if (!fresh) {
      return InvalidArgument(path + ": outputs '" + it->second + "' and '" + kv.first +
                                   "' would both be written to this file");
    }
    paths[kv.first] = path;
  }
  std::vector<std::string> protect = {a.model};
  for (const std::string& spec : a.inputs) protect.push_back(spec.substr(spec.find('=') + 1));
  for (const auto& kv : paths) {
    for (const std::string& p : protect) {
      if (SameFile(kv.second, p)) return InvalidArgument(kv.second + ": refusing to overwrite an input file of this run");
    }
  }
  DOPT_RETURN_IF_ERROR(MakeDirs(a.output_dir));
  std::vector<std::string> written;
  for (const auto& kv : outputs) {
    const std::string& path = paths[kv.first];
    Status st = WriteNpy(path, kv.second);
    if (!st.ok()) {
      for (const std::string& w : written) std::remove(w.c_str());
      return st;
    }
    written.push_back(path);
  }
  for (const auto& kv : outputs) {
    std::printf("%s %s %s -> %s\n", kv.first.c_str(), DTypeName(kv.second.dtype()),
                ShapeToString(kv.second.shape()).c_str(), paths[kv.first].c_str());
  }
  return Status::Ok();
}

Status QdqExport(const QdqExportRequest& a) {
  if (SameFile(a.model, a.output)) return InvalidArgument(a.output + ": refusing to overwrite the input model");
  DOPT_ASSIGN_OR_RETURN(QuantPlan plan, ReadCompressConf(a.compress_conf));
  DOPT_ASSIGN_OR_RETURN(Graph graph, LoadModel(a.model, a.framework));
  PrepareOptions po;
  po.equalization = plan.equalization;
  DOPT_RETURN_IF_ERROR(PrepareForQuantization(graph, nullptr, po).WithContext(a.model));
  DOPT_RETURN_IF_ERROR(ApplySmoothing(graph, plan).WithContext(a.compress_conf));
  DOPT_RETURN_IF_ERROR(ApplyBiasCorrections(graph, plan).WithContext(a.compress_conf));
  DOPT_RETURN_IF_ERROR(InsertQDQ(graph, plan).WithContext(a.compress_conf));
  if (graph.info.ir_version < 7) graph.info.ir_version = 7;  // QDQ needs opset >= 13, released with IR 7
  DOPT_RETURN_IF_ERROR(SaveOnnxModel(graph, a.output));
  std::printf("wrote %s: %zu quantized op(s)\n", a.output.c_str(), plan.ops.size());
  return Status::Ok();
}

Status UpgradeModel(const UpgradeRequest& a) {
  DOPT_ASSIGN_OR_RETURN(Graph graph, LoadOnnxModel(a.model));
  int64_t before = 0;
  for (const auto& o : graph.info.opsets)
    if (o.first.empty() || o.first == "ai.onnx") before = o.second;
  DOPT_RETURN_IF_ERROR(UpgradeOpset(graph, a.opset).WithContext(a.model));
  DOPT_RETURN_IF_ERROR(SaveOnnxModel(graph, a.output));
  int changed = 0;
  for (const auto& n : graph.nodes) changed += n.dirty ? 1 : 0;
  std::printf("opset %lld -> %d: %d of %zu node(s) rewritten or added; wrote %s\n", (long long)before, a.opset,
              changed, graph.nodes.size(), a.output.c_str());
  return Status::Ok();
}

}  // namespace dopt
