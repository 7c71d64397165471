// dopt upgrade-opset: load an ONNX model, upgrade its default-domain opset and write it back.
// Hidden (for tests); the quantizer calls UpgradeOpset itself.
#include <cstdio>
#include <memory>
#include <string>

#include "commands.h"
#include "frontends/onnx/onnx_frontend.h"
#include "passes/upgrade_opset.h"

namespace dopt_cli {

namespace {

struct UpgradeArgs {
  std::string model, output;
  int opset = 13;
};

dopt::Status Upgrade(const UpgradeArgs& a) {
  DOPT_ASSIGN_OR_RETURN(dopt::Graph graph, dopt::LoadOnnxModel(a.model));
  int64_t before = 0;
  for (const auto& o : graph.info.opsets)
    if (o.first.empty() || o.first == "ai.onnx") before = o.second;
  DOPT_RETURN_IF_ERROR(dopt::UpgradeOpset(graph, a.opset).WithContext(a.model));
  // SerializeOnnxModel takes the model-level fields (opset_import, ir_version) from the source
  // bytes when it has them, so the new opset would not be written: write from the IR instead.
  graph.info.source_bytes.reset();
  DOPT_RETURN_IF_ERROR(dopt::SaveOnnxModel(graph, a.output));
  int changed = 0;
  for (const auto& n : graph.nodes) changed += n.dirty ? 1 : 0;
  std::printf("opset %lld -> %d: %d of %zu node(s) rewritten or added; wrote %s\n", (long long)before, a.opset,
              changed, graph.nodes.size(), a.output.c_str());
  return dopt::Status::Ok();
}

}  // namespace

std::function<int()> AddUpgradeCommand(CLI::App& app) {
  auto args = std::make_shared<UpgradeArgs>();
  CLI::App* cmd = app.add_subcommand("upgrade-opset", "rewrite an ONNX model for a newer default-domain opset (for tests)");
  cmd->group("");  // hidden from --help
  cmd->add_option("--model", args->model, "ONNX model")->required();
  cmd->add_option("--output", args->output, "ONNX file to write (never the input)")->required();
  cmd->add_option("--opset", args->opset, "target opset (default 13)")
      ->check(CLI::Range(dopt::kUpgradeMinOpset, dopt::kUpgradeMaxOpset));
  return [=]() -> int {
    if (!*cmd) return -1;
    dopt::Status st = Upgrade(*args);
    if (st.ok()) return 0;
    std::fprintf(stderr, "dopt: error: %s\n", st.message().c_str());
    return st.code() == dopt::StatusCode::kInternal ? 3 : 2;
  };
}

}  // namespace dopt_cli
