// dopt upgrade-opset: load an ONNX model, upgrade its default-domain opset and write it back.
// Hidden (for tests); the quantizer calls UpgradeOpset itself.
#include <cstdio>
#include <memory>
#include <string>

#include "commands.h"
#include "passes/upgrade_opset.h"
#include "pipeline/model_tools.h"

namespace dopt_cli {

std::function<int()> AddUpgradeCommand(CLI::App& app) {
  auto args = std::make_shared<dopt::UpgradeRequest>();
  CLI::App* cmd = app.add_subcommand("upgrade-opset", "rewrite an ONNX model for a newer default-domain opset (for tests)");
  cmd->group("");  // hidden from --help
  cmd->add_option("--model", args->model, "ONNX model")->required();
  cmd->add_option("--output", args->output, "ONNX file to write (never the input)")->required();
  cmd->add_option("--opset", args->opset, "target opset (default 13)")
      ->check(CLI::Range(dopt::kUpgradeMinOpset, dopt::kUpgradeMaxOpset));
  return [=]() -> int {
    if (!*cmd) return -1;
    dopt::Status st = dopt::UpgradeModel(*args);
    if (st.ok()) return 0;
    std::fprintf(stderr, "dopt: error: %s\n", st.message().c_str());
    return st.code() == dopt::StatusCode::kInternal ? 3 : 2;
  };
}

}  // namespace dopt_cli
