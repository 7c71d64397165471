// Graph passes: small rewrites run in order by a PassManager, each in its own file.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dopt/status.h"
#include "ir/graph.h"

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

// Graph-editing helpers shared by passes.
// A value name not yet used in the graph, built from `base`.
std::string UniqueValueName(const Graph& graph, const std::string& base);
// Adds a constant (initializer) value and returns its id.
int AddInitializer(Graph& graph, const std::string& name, Tensor t);
// The initializer behind value `id`, or nullptr when it is not a model constant.
const Tensor* InitializerOf(const Graph& graph, int id);
// How many nodes read `value`, plus one if it is a graph output (consumers = graph.Consumers()).
int CountUses(const Graph& graph, const std::vector<std::vector<int>>& consumers, int value);
// Removes the nodes at the given indices (any order); values stay (unused ones are harmless).
void RemoveNodes(Graph& graph, std::vector<int> node_indices);

}  // namespace dopt
