// Subcommands defined outside main.cc. Each Add*Commands registers its subcommands on `app`
// and returns a function to call after parsing: it runs the chosen subcommand and returns its
// exit code, or -1 when none of its subcommands was chosen.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace dopt_cli {

// check-config, make-bin, inspect (tools/cli/data_commands.cc).
std::function<int()> AddDataCommands(CLI::App& app);

// qdq-export, hidden: writes the QDQ model of a model + compress_conf (tools/cli/qdq_commands.cc).
std::function<int()> AddQdqCommands(CLI::App& app);

}  // namespace dopt_cli

namespace dopt_cli {

// The original tool's quantization flags (`dopt -m 0 ...`, tools/cli/quantize_command.cc).
struct QuantizeFlags {
  int mode = -1, framework = 0;
  std::string model, weight, cal_conf, output, input_format, input_shape, out_nodes, compress_conf;
  std::string model_class;  // extension: which nn.Module of a .py to quantize
  int num_threads = 0;      // extension: calibration threads (0: all cores)
  std::string report;       // extension: --report FILE.html
};
int RunQuantizeCommand(const QuantizeFlags& flags);

// analyze: the layer-wise error analysis (the -m 0 flags; tools/cli/quantize_command.cc).
std::function<int()> AddAnalyzeCommand(CLI::App& app);

// upgrade-opset, hidden (tools/cli/upgrade_command.cc).
std::function<int()> AddUpgradeCommand(CLI::App& app);

}  // namespace dopt_cli
