// check-config, make-bin and inspect: their flags; the work is src/pipeline/data_tools.cc.
#include <cstdio>
#include <memory>
#include <string>

#include "commands.h"
#include "pipeline/data_tools.h"

namespace dopt_cli {

namespace {

int Fail(const dopt::Status& st) {
  std::fprintf(stderr, "dopt: error: %s\n", st.message().c_str());
  return st.code() == dopt::StatusCode::kInternal ? 3 : 2;
}

}  // namespace

std::function<int()> AddDataCommands(CLI::App& app) {
  auto check = std::make_shared<dopt::CheckConfigRequest>();
  CLI::App* cc = app.add_subcommand("check-config",
                                    "dry run: resolve --cal_conf against the model and flags, print it, read every sample once");
  cc->add_option("--cal_conf", check->cal_conf, "calibration config (config.prototxt)")->required();
  cc->add_option("--model", check->model, "model file")->required();
  cc->add_option("--framework", check->framework, "3 = TensorFlow, 5 = PyTorch or ONNX (default: from the file name)");
  cc->add_option("--input_shape", check->input_shape, "\"in1: n,c,h,w; in2: ...\" (default: the model's input shapes)");
  cc->add_option("--input_format", check->input_format, "NCHW or NHWC");
  cc->add_option("--out_nodes", check->out_nodes, "\"out1; out2\"");
  cc->add_option("--device_idx", check->device_idx, "GPU index (accepted; the CPU is used)");
  cc->add_option("--batch_size", check->batch_size, "samples per batch (default: n of the first --input_shape)");

  auto mb = std::make_shared<dopt::MakeBinRequest>();
  CLI::App* mk = app.add_subcommand("make-bin", "write a 610/510 calibration .bin from .npy arrays or an image folder");
  mk->add_option("--npy", mb->npy, "an .npy array, first dim = samples (repeatable; concatenated along it)");
  mk->add_option("--images", mb->images, "an image folder, preprocessed as IMAGE mode does");
  mk->add_option("--image_shape", mb->image_shape, "C,H,W of each image sample (C = 1 or 3)");
  mk->add_option("--input_format", mb->input_format, "layout of image samples: NCHW (default) or NHWC (610 only)");
  mk->add_option("--image_format", mb->image_format, "BGR (default) or RGB");
  mk->add_option("--mean_value", mb->mean, "per-channel means, e.g. 104,113,123");
  mk->add_option("--standard_deviation", mb->stdev, "one value or one per channel; 0 = no division");
  mk->add_option("--magic", mb->magic, "610 (any rank, default) or 510 (N,C,H,W)");
  mk->add_option("-o,--output", mb->output, "the .bin to write")->required();

  auto inspect_path = std::make_shared<std::string>();
  auto inspect_json = std::make_shared<bool>(false);
  CLI::App* ins = app.add_subcommand(
      "inspect", "print a calibration .bin file's header and statistics, or a compress_conf file's parameters");
  ins->add_option("file", *inspect_path, "a .bin file or a compress_conf file")->required();
  ins->add_flag("--json", *inspect_json, "print a compress_conf file as JSON");

  return [=]() -> int {
    dopt::Status st;
    if (*cc) {
      st = dopt::CheckConfig(*check);
    } else if (*mk) {
      st = dopt::MakeBin(*mb);
    } else if (*ins) {
      st = dopt::Inspect(*inspect_path, *inspect_json);
    } else {
      return -1;
    }
    return st.ok() ? 0 : Fail(st);
  };
}

}  // namespace dopt_cli
