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
#include "common/limits.h"
#include "common/signal_cleanup.h"
#include "pipeline/model_tools.h"

namespace {

using dopt::Status;

int Fail(const Status& st) {
  std::fprintf(stderr, "dopt: error: %s\n", st.message().c_str());
  return st.code() == dopt::StatusCode::kInternal ? 3 : 2;
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
  std::string report;
  app.add_option("--report", report, "also write a self-contained HTML report of the layer-wise analysis");

  dopt::RunRequest run;
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
  auto run_analyze_command = dopt_cli::AddAnalyzeCommand(app);
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
  if (int rc = run_analyze_command(); rc >= 0) return rc;
  if (*run_cmd) {
    Status st = dopt::RunModel(run);
    return st.ok() ? 0 : Fail(st);
  }
  if (*resave_cmd) {
    Status st = dopt::Resave(resave_model, resave_output);
    return st.ok() ? 0 : Fail(st);
  }
  if (mode < 0) {
    std::cout << app.help();
    return 2;
  }
  return dopt_cli::RunQuantizeCommand(
      {mode, framework, model, weight, cal_conf, output, input_format, input_shape, out_nodes, compress_conf, model_class, quantize_threads, report});
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
