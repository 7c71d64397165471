// The dopt command: flags -> request -> pipeline. Nothing else lives here.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "commands.h"
#include "common/file_util.h"
#include "data/bin_file.h"
#include "executor/executor.h"
#include "frontends/load_model.h"
#include "io/npy.h"

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

struct RunArgs {
  std::string model;
  int framework = 0;
  std::vector<std::string> inputs;
  std::string output_dir;
  int num_threads = 0;
};

Status RunModel(const RunArgs& a) {
  DOPT_ASSIGN_OR_RETURN(dopt::Graph graph, dopt::LoadModel(a.model, a.framework));
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
    DOPT_ASSIGN_OR_RETURN(dopt::Tensor t, ReadInputFile(file));
    int id = graph.FindValue(name);
    if (id >= 0 && t.dtype() != graph.value(id).dtype && dopt::IsFloat(t.dtype()) && dopt::IsFloat(graph.value(id).dtype)) {
      t = t.CastTo(graph.value(id).dtype);  // float32 data for a float16 input and the like
    }
    feeds[name] = std::move(t);
  }
  dopt::ExecutorOptions opts;
  opts.num_threads = a.num_threads;
  DOPT_ASSIGN_OR_RETURN(auto exec, dopt::Executor::Create(graph, opts));
  std::map<std::string, dopt::Tensor> outputs;
  DOPT_RETURN_IF_ERROR(exec->Run(feeds, &outputs).WithContext(a.model));
  for (const auto& kv : outputs) {
    std::string path = dopt::JoinPath(a.output_dir, SafeFileName(kv.first) + ".npy");
    DOPT_RETURN_IF_ERROR(dopt::WriteNpy(path, kv.second));
    std::printf("%s %s %s -> %s\n", kv.first.c_str(), dopt::DTypeName(kv.second.dtype()),
                dopt::ShapeToString(kv.second.shape()).c_str(), path.c_str());
  }
  return Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dopt: post-training INT8 quantization for ONNX, TensorFlow and PyTorch models"};
  app.set_version_flag("--version", std::string("dopt 0.1.0"));

  // The original tool's quantization flags.
  int mode = -1, framework = 0, device_idx = 0;
  std::string model, weight, cal_conf, output, input_format = "NCHW", input_shape, out_nodes, compress_conf;
  app.add_option("-m,--mode", mode, "run mode: 0 = no-training quantization");
  app.add_option("--framework", framework, "3 = TensorFlow, 5 = PyTorch or ONNX");
  app.add_option("--model", model, "model file: .pb, .py or .onnx");
  app.add_option("--weight", weight, "PyTorch weights (.pth)");
  app.add_option("--cal_conf", cal_conf, "calibration config (config.prototxt)");
  app.add_option("--output", output, "quantized model to write");
  app.add_option("--input_format", input_format, "NCHW or NHWC")->check(CLI::IsMember({"NCHW", "NHWC"}));
  app.add_option("--input_shape", input_shape, "\"in1: n,c,h,w; in2: ...\"");
  app.add_option("--out_nodes", out_nodes, "\"out1; out2\"");
  app.add_option("--compress_conf", compress_conf, "quantization parameters file to write");
  app.add_option("--device_idx", device_idx, "GPU index (the CPU is used until a GPU backend exists)");

  RunArgs run;
  CLI::App* run_cmd = app.add_subcommand("run", "run a model on inputs and write its outputs as .npy");
  run_cmd->add_option("--model", run.model, "model file")->required();
  run_cmd->add_option("--framework", run.framework, "3 = TensorFlow, 5 = PyTorch or ONNX (default: from the file name)");
  run_cmd->add_option("--input", run.inputs, "NAME=FILE.npy or NAME=FILE.bin (repeatable)")->required();
  run_cmd->add_option("--output_dir", run.output_dir, "folder for <output name>.npy files")->required();
  run_cmd->add_option("--num_threads", run.num_threads, "threads (default: all cores)");

  auto run_data_command = dopt_cli::AddDataCommands(app);
  app.require_subcommand(0, 1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "dopt: error: %s (see dopt --help)\n", e.what());
    return 2;
  }

  if (int rc = run_data_command(); rc >= 0) return rc;
  if (*run_cmd) {
    Status st = RunModel(run);
    return st.ok() ? 0 : Fail(st);
  }
  if (mode < 0) {
    std::cout << app.help();
    return 2;
  }
  return Fail(dopt::Unimplemented("quantization (-m 0) is not implemented yet; use 'dopt run' to run a float model"));
}
