// Graph passes: small rewrites run in order by a PassManager, each in its own file.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dopt/status.h"
#include "ir/graph.h"
#include "ir/graph_edit.h"  // the graph-editing API passes use

namespace dopt {

class Pass {
 public:
  virtual ~Pass() = default;
  virtual const char* name() const = 0;
  // Rewrites the graph; returns how many places it changed (0 = nothing to do).
  virtual StatusOr<int> Run(Graph& graph) = 0;
};

struct PassReport {
  std::string pass;
  int changes = 0;
};

class PassManager {
 public:
  void Add(std::unique_ptr<Pass> pass) { passes_.push_back(std::move(pass)); }
  // Runs every pass in order. After each pass that changed something, the graph is sorted,
  // verified and its shapes inferred again, so a broken rewrite is caught at its pass.
  Status Run(Graph& graph, std::vector<PassReport>* reports = nullptr);

 private:
  std::vector<std::unique_ptr<Pass>> passes_;
};

}  // namespace dopt
