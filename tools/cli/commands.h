// Subcommands defined outside main.cc. Each Add*Commands registers its subcommands on `app`
// and returns a function to call after parsing: it runs the chosen subcommand and returns its
// exit code, or -1 when none of its subcommands was chosen.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace dopt_cli {

// check-config, make-bin, inspect (tools/cli/data_commands.cc).
std::function<int()> AddDataCommands(CLI::App& app);

// upgrade-opset, hidden (tools/cli/upgrade_command.cc).
std::function<int()> AddUpgradeCommand(CLI::App& app);

}  // namespace dopt_cli
