// qdq-export (hidden, for tests): model + compress_conf -> QDQ ONNX model, the same export
// `dopt -m 0` does after calibration, without calibrating.
#include <cstdio>
#include <memory>
#include <string>

#include "commands.h"
#include "common/file_util.h"
#include "frontends/load_model.h"
#include "frontends/onnx/onnx_frontend.h"
#include "quant/compress_conf.h"
#include "quant/prepare.h"
#include "quant/qdq.h"

namespace dopt_cli {

namespace {

using dopt::Status;

struct QdqExportArgs {
  std::string model, compress_conf, output;
  int framework = 0;
};

Status QdqExport(const QdqExportArgs& a) {
  if (dopt::SameFile(a.model, a.output)) return dopt::InvalidArgument(a.output + ": refusing to overwrite the input model");
  DOPT_ASSIGN_OR_RETURN(dopt::QuantPlan plan, dopt::ReadCompressConf(a.compress_conf));
  DOPT_ASSIGN_OR_RETURN(dopt::Graph graph, dopt::LoadModel(a.model, a.framework));
  DOPT_RETURN_IF_ERROR(dopt::PrepareForQuantization(graph).WithContext(a.model));
  DOPT_RETURN_IF_ERROR(dopt::InsertQDQ(graph, plan).WithContext(a.compress_conf));
  if (graph.info.ir_version < 7) graph.info.ir_version = 7;  // QDQ needs opset >= 13, released with IR 7
  DOPT_RETURN_IF_ERROR(dopt::SaveOnnxModel(graph, a.output));
  std::printf("wrote %s: %zu quantized op(s)\n", a.output.c_str(), plan.ops.size());
  return Status::Ok();
}

}  // namespace

std::function<int()> AddQdqCommands(CLI::App& app) {
  auto args = std::make_shared<QdqExportArgs>();
  CLI::App* cmd = app.add_subcommand("qdq-export", "write the QDQ ONNX model for a model and a compress_conf (for tests)");
  cmd->group("");  // hidden from --help
  cmd->add_option("--model", args->model, "float model")->required();
  cmd->add_option("--framework", args->framework, "3 = TensorFlow, 5 = PyTorch or ONNX (default: from the file name)");
  cmd->add_option("--compress_conf", args->compress_conf, "compress_conf file")->required();
  cmd->add_option("--output", args->output, "ONNX file to write")->required();
  return [=]() -> int {
    if (!*cmd) return -1;
    Status st = QdqExport(*args);
    if (st.ok()) return 0;
    std::fprintf(stderr, "dopt: error: %s\n", st.message().c_str());
    return st.code() == dopt::StatusCode::kInternal ? 3 : 2;
  };
}

}  // namespace dopt_cli
