// qdq-export (hidden, for tests): model + compress_conf -> QDQ ONNX model, the same export
// `dopt -m 0` does after calibration, without calibrating.
#include <cstdio>
#include <memory>
#include <string>

#include "commands.h"
#include "pipeline/model_tools.h"

namespace dopt_cli {

std::function<int()> AddQdqCommands(CLI::App& app) {
  auto args = std::make_shared<dopt::QdqExportRequest>();
  CLI::App* cmd = app.add_subcommand("qdq-export", "write the QDQ ONNX model for a model and a compress_conf (for tests)");
  cmd->group("");  // hidden from --help
  cmd->add_option("--model", args->model, "float model")->required();
  cmd->add_option("--framework", args->framework, "3 = TensorFlow, 5 = PyTorch or ONNX (default: from the file name)");
  cmd->add_option("--compress_conf", args->compress_conf, "compress_conf file")->required();
  cmd->add_option("--output", args->output, "ONNX file to write")->required();
  return [=]() -> int {
    if (!*cmd) return -1;
    dopt::Status st = dopt::QdqExport(*args);
    if (st.ok()) return 0;
    std::fprintf(stderr, "dopt: error: %s\n", st.message().c_str());
    return st.code() == dopt::StatusCode::kInternal ? 3 : 2;
  };
}

}  // namespace dopt_cli
