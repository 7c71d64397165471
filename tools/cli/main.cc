// The dopt command: flags -> request -> pipeline. Nothing else lives here.
#include <CLI/CLI.hpp>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <new>
#include <string>
#include <vector>

#include "commands.h"
#include "common/file_util.h"
#include "common/limits.h"
#include "common/signal_cleanup.h"
#include "data/bin_file.h"
#include "executor/executor.h"
#include "frontends/load_model.h"
#include "frontends/onnx/onnx_frontend.h"
#include "frontends/tf/tf_frontend.h"
#include "data/flag_parsing.h"
#include "io/npy.h"
#include "passes/cut_graph.h"
#include "passes/pass.h"
#include "quant/compress_conf.h"
#include "quant/prepare.h"
#include "quant/qdq.h"

namespace {

using dopt::Status;

int Fail(const Status& st) {
  std::fprintf(stderr, "dopt: error: %s\n", st.message().c_str());
  return st.code() == dopt::StatusCode::kInternal ? 3 : 2;
}

std::string SafeFileName(const std::string& name) {
  std::string s = name;
  for (char& c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  return s;
}

dopt::StatusOr<dopt::Tensor> ReadInputFile(const std::string& path) {
  std::string lower = path;
  for (char& c : lower) c = (char)std::tolower((unsigned char)c);
  if (lower.size() >= 4 && lower.compare(lower.size() - 4, 4, ".bin") == 0) return dopt::ReadBinFile(path);
  return dopt::ReadNpy(path);
}

// The executor checks feeds too; checking here lets the message name the data file.
Status CheckFeed(const dopt::Value& v, const dopt::Tensor& t) {
  if (dopt::ComputeDType(t.dtype()) != dopt::ComputeDType(v.dtype)) {
    return dopt::InvalidArgument(std::string("holds ") + dopt::DTypeName(t.dtype()) + " data, model input '" + v.name +
                                 "' is " + dopt::DTypeName(v.dtype));
  }
  if (!v.rank_known) return Status::Ok();
  bool ok = t.rank() == (int)v.shape.size();
  for (size_t d = 0; ok && d < v.shape.size(); ++d)
    if (v.shape[d] >= 0 && v.shape[d] != t.dim((int)d)) ok = false;
  if (ok) return Status::Ok();
  return dopt::InvalidArgument("has shape " + dopt::ShapeToString(t.shape()) + ", model input '" + v.name +
                               "' expects " + dopt::ShapeToString(v.shape));
}

// mkdir -p.
Status MakeDirs(const std::string& dir) {
  if (dir.empty()) return Status::Ok();
  struct stat st;
  if (stat(dir.c_str(), &st) == 0) {
    return S_ISDIR(st.st_mode) ? Status::Ok() : dopt::InvalidArgument(dir + ": exists and is not a directory");
  }
  std::string parent = dopt::DirName(dir);
  if (parent != dir && parent != "." && parent != "/") DOPT_RETURN_IF_ERROR(MakeDirs(parent));
  if (mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) {
    return dopt::IoError(dir + ": cannot create directory: " + std::strerror(errno));
  }
  return Status::Ok();
}

// dopt resave: model -> dopt IR -> ONNX, for round-trip tests. Not part of the documented CLI.
Status Resave(const std::string& model, const std::string& output) {
  if (dopt::SameFile(model, output)) return dopt::InvalidArgument(output + ": refusing to overwrite the input model");
  if (model.size() >= 3 && model.compare(model.size() - 3, 3, ".pb") == 0) {  // TF: the GraphDef parsed and written back
    DOPT_ASSIGN_OR_RETURN(std::string bytes, dopt::ReadFileToString(model));
    DOPT_ASSIGN_OR_RETURN(std::string out, dopt::ReserializeTfGraphDef(bytes, model));
    return dopt::WriteFileAtomic(output, out);
  }
  DOPT_ASSIGN_OR_RETURN(dopt::Graph graph, dopt::LoadModel(model, 0));
  return dopt::SaveOnnxModel(graph, output);
}

struct RunArgs {
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

// A PyTorch model is exported for fixed input shapes: those of the --input files
// ("NAME: d0,d1,...; ..." as --input_shape; a lone unnamed file is forward()'s first input).
dopt::StatusOr<std::string> InputShapeFromFiles(const std::vector<std::string>& inputs) {
  std::string text;
  for (const std::string& spec : inputs) {
    size_t eq = spec.find('=');
    std::string name = eq == std::string::npos ? "" : spec.substr(0, eq);
    std::string file = eq == std::string::npos ? spec : spec.substr(eq + 1);
    DOPT_ASSIGN_OR_RETURN(dopt::Tensor t, ReadInputFile(file));
    std::string dims;
    for (int d = 0; d < t.rank(); ++d) dims += (d ? "," : "") + std::to_string(t.dim(d));
    text += (text.empty() ? "" : "; ") + name + ": " + dims;
  }
  return text;
}

Status RunModel(const RunArgs& a) {
  struct stat st;
  if (stat(a.output_dir.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
    return dopt::InvalidArgument(a.output_dir + ": --output_dir exists and is not a directory");
  }
  // NAME=FILE inputs that name inner tensors cut the graph there (a TF graph run from "Mfcc"):
  // their files' shapes are the cut shapes.
  dopt::ModelSource source;
  source.path = a.model;
  source.framework = a.framework;
  source.out_nodes = a.out_nodes;
  source.weight = a.weight;
  source.model_class = a.model_class;
  std::vector<std::pair<std::string, dopt::Shape>> cut_shapes;
  for (const std::string& spec : a.inputs) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos) continue;
    DOPT_ASSIGN_OR_RETURN(dopt::Tensor t, ReadInputFile(spec.substr(eq + 1)));
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
  DOPT_ASSIGN_OR_RETURN(dopt::Graph graph, dopt::LoadModel(source));
  {
    std::vector<std::pair<std::string, dopt::Shape>> inner;
    for (const auto& kv : cut_shapes) {
      int id = graph.FindValue(kv.first);
      if (id >= 0 && graph.value(id).producer >= 0) inner.push_back(kv);
    }
    std::vector<std::string> outs;
    if (!dopt::TrimSpaces(a.out_nodes).empty()) {
      DOPT_ASSIGN_OR_RETURN(outs, dopt::ParseOutNodes(a.out_nodes));
    }
    if (!inner.empty() || !outs.empty()) {
      dopt::PassManager cut;
      cut.Add(std::make_unique<dopt::CutGraphPass>(inner, outs));
      DOPT_RETURN_IF_ERROR(cut.Run(graph).WithContext(a.model));
    }
  }
  if (!a.compress_conf.empty()) {  // the int8 model: same preparation as -m 0, then Q/DQ
    DOPT_ASSIGN_OR_RETURN(dopt::QuantPlan plan, dopt::ReadCompressConf(a.compress_conf));
    DOPT_RETURN_IF_ERROR(dopt::PrepareForQuantization(graph).WithContext(a.model));
    dopt::QdqOptions qo;
    qo.check_opset = false;
    DOPT_RETURN_IF_ERROR(dopt::InsertQDQ(graph, plan, qo).WithContext(a.compress_conf));
  }
  std::map<std::string, dopt::Tensor> feeds;
  for (const std::string& spec : a.inputs) {
    size_t eq = spec.find('=');
    std::string name, file;
    if (eq == std::string::npos) {
      if (graph.inputs.size() != 1 || a.inputs.size() != 1) {
        return dopt::InvalidArgument("--input '" + spec + "' must be NAME=FILE when the model has several inputs");
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
      return dopt::InvalidArgument(a.model + ": --input '" + spec + "': '" + name +
                                   "' is not an input of the model (inputs: " + names + ")");
    }
    DOPT_ASSIGN_OR_RETURN(dopt::Tensor t, ReadInputFile(file));
    if (t.dtype() != graph.value(id).dtype && dopt::IsFloat(t.dtype()) && dopt::IsFloat(graph.value(id).dtype)) {
      t = t.CastTo(graph.value(id).dtype);  // float32 data for a float16 input and the like
    }
    DOPT_RETURN_IF_ERROR(CheckFeed(graph.value(id), t).WithContext(file));
    if (feeds.count(name)) return dopt::InvalidArgument("--input '" + spec + "': input '" + name + "' is given twice");
    feeds[name] = std::move(t);
  }
  dopt::ExecutorOptions opts;
  opts.num_threads = a.num_threads;
  opts.optimize = true;  // execution-only rewrites (BN folding, Conv+activation fusion)
  DOPT_ASSIGN_OR_RETURN(auto exec, dopt::Executor::Create(graph, opts));
  std::map<std::string, dopt::Tensor> outputs;
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
    std::string path = dopt::JoinPath(a.output_dir, SafeFileName(kv.first) + ".npy");
    auto [it, fresh] = owner.emplace(path, kv.first);
    if (!fresh) {
      return dopt::InvalidArgument(path + ": outputs '" + it->second + "' and '" + kv.first +
                                   "' would both be written to this file");
    }
    paths[kv.first] = path;
  }
  std::vector<std::string> protect = {a.model};
  for (const std::string& spec : a.inputs) protect.push_back(spec.substr(spec.find('=') + 1));
  for (const auto& kv : paths) {
    for (const std::string& p : protect) {
      if (dopt::SameFile(kv.second, p)) return dopt::InvalidArgument(kv.second + ": refusing to overwrite an input file of this run");
    }
  }
  DOPT_RETURN_IF_ERROR(MakeDirs(a.output_dir));
  std::vector<std::string> written;
  for (const auto& kv : outputs) {
    const std::string& path = paths[kv.first];
    Status st = dopt::WriteNpy(path, kv.second);
    if (!st.ok()) {
      for (const std::string& w : written) std::remove(w.c_str());
      return st;
    }
    written.push_back(path);
  }
  for (const auto& kv : outputs) {
    std::printf("%s %s %s -> %s\n", kv.first.c_str(), dopt::DTypeName(kv.second.dtype()),
                dopt::ShapeToString(kv.second.shape()).c_str(), paths[kv.first].c_str());
  }
  return Status::Ok();
}

}  // namespace

static int Main(int argc, char** argv) {
  CLI::App app{"dopt: post-training INT8 quantization for ONNX, TensorFlow and PyTorch models"};
  app.set_version_flag("--version", std::string("dopt 0.1.0"));

  // The original tool's quantization flags.
  int mode = -1, framework = 0, device_idx = 0;
  std::string model, weight, cal_conf, output, input_format = "NCHW", input_shape, out_nodes, compress_conf;
  app.add_option("-m,--mode", mode, "run mode: 0 = no-training quantization");
  app.add_option("--framework", framework, "3 = TensorFlow, 5 = PyTorch or ONNX");
  app.add_option("--model", model, "model file: .pb, .py or .onnx");
  app.add_option("--weight", weight, "PyTorch weights (.pth)");
  std::string model_class;
  app.add_option("--model_class", model_class,
                 "PyTorch: the nn.Module class or factory function in --model to quantize (when the file has several)");
  app.add_option("--cal_conf", cal_conf, "calibration config (config.prototxt)");
  app.add_option("--output", output, "quantized model to write");
  app.add_option("--input_format", input_format, "NCHW or NHWC")->check(CLI::IsMember({"NCHW", "NHWC"}));
  app.add_option("--input_shape", input_shape, "\"in1: n,c,h,w; in2: ...\"");
  app.add_option("--out_nodes", out_nodes, "\"out1; out2\"");
  app.add_option("--compress_conf", compress_conf, "quantization parameters file to write");
  int quantize_threads = 0;
  app.add_option("--num_threads", quantize_threads, "calibration threads (default: all cores; the output is the same for any count)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--device_idx", device_idx, "GPU index (the CPU is used until a GPU backend exists)");

  RunArgs run;
  CLI::App* run_cmd = app.add_subcommand("run", "run a model on inputs and write its outputs as .npy");
  run_cmd->add_option("--model", run.model, "model file")->required();
  run_cmd->add_option("--framework", run.framework, "3 = TensorFlow, 5 = PyTorch or ONNX (default: from the file name)");
  run_cmd->add_option("--input", run.inputs, "NAME=FILE.npy or NAME=FILE.bin (repeatable)")->required();
  run_cmd->add_option("--output_dir", run.output_dir, "folder for <output name>.npy files")->required();
  run_cmd->add_option("--weight", run.weight, "PyTorch weights (.pth) of a .py model");
  run_cmd->add_option("--model_class", run.model_class, "PyTorch: the nn.Module class or factory function in --model");
  run_cmd->add_option("--num_threads", run.num_threads, "threads (default: all cores)");
  run_cmd->add_option("--compress_conf", run.compress_conf,
                      "simulate the int8 model: apply this compress_conf's quantization (Q/DQ) before running");
  run_cmd->add_option("--out_nodes", run.out_nodes, "\"out1; out2\": write these tensors instead of the model outputs");
  run_cmd->add_option("--repeat", run.repeat, "run the forward N more times and print forward_ms_median")
      ->check(CLI::NonNegativeNumber);

  std::string resave_model, resave_output;
  CLI::App* resave_cmd = app.add_subcommand("resave", "load a model into dopt's IR and write it back (ONNX; a TF .pb as a GraphDef) (for tests)");
  resave_cmd->group("");  // hidden from --help
  resave_cmd->add_option("--model", resave_model, "model file")->required();
  resave_cmd->add_option("--output", resave_output, "ONNX file to write (never the input)")->required();

  auto run_data_command = dopt_cli::AddDataCommands(app);
  auto run_qdq_command = dopt_cli::AddQdqCommands(app);
  auto run_upgrade_command = dopt_cli::AddUpgradeCommand(app);
  app.require_subcommand(0, 1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "dopt: error: %s (see dopt --help)\n", e.what());
    return 2;
  }

  if (int rc = run_data_command(); rc >= 0) return rc;
  if (int rc = run_qdq_command(); rc >= 0) return rc;
  if (int rc = run_upgrade_command(); rc >= 0) return rc;
  if (*run_cmd) {
    Status st = RunModel(run);
    return st.ok() ? 0 : Fail(st);
  }
  if (*resave_cmd) {
    Status st = Resave(resave_model, resave_output);
    return st.ok() ? 0 : Fail(st);
  }
  if (mode < 0) {
    std::cout << app.help();
    return 2;
  }
  return dopt_cli::RunQuantizeCommand(
      {mode, framework, model, weight, cal_conf, output, input_format, input_shape, out_nodes, compress_conf, model_class, quantize_threads});
}

int main(int argc, char** argv) {
  // Ctrl-C / SIGTERM / SIGHUP: temp files are removed, no partial output is left.
  dopt::InstallSignalCleanup();
  try {
    return Main(argc, argv);
  } catch (const std::bad_alloc&) {
    // A tensor above dopt's element limit (src/common/limits.h) or the machine's memory, e.g.
    // a model whose ops compute a huge output at run time. Nothing has been written.
    std::fprintf(stderr, "dopt: error: out of memory: a tensor is larger than %lld elements or than the free memory\n",
                 (long long)dopt::kMaxTensorElements);
    return 2;
  }
}
