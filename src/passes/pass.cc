#include "passes/pass.h"

#include <algorithm>

#include "ir/shape_inference.h"

namespace dopt {

Status PassManager::Run(Graph& graph, std::vector<PassReport>* reports) {
  for (auto& p : passes_) {
    auto changes = p->Run(graph);
    if (!changes.ok()) return changes.status().WithContext(std::string("pass ") + p->name());
    if (reports) reports->push_back({p->name(), *changes});
    if (*changes > 0) {
      for (Value& v : graph.values) v.folded.reset();  // recomputed from the rewritten graph
      Status st = PrepareGraph(graph);
      if (!st.ok()) return Internal(std::string("pass ") + p->name() + " left an invalid graph: " + st.message());
    }
  }
  return Status::Ok();
}

std::string UniqueValueName(const Graph& graph, const std::string& base) {
  if (graph.FindValue(base) < 0) return base;
  for (int i = 1;; ++i) {
    std::string n = base + "_" + std::to_string(i);
    if (graph.FindValue(n) < 0) return n;
  }
}

int AddInitializer(Graph& graph, const std::string& name, Tensor t) {
  Value v;
  v.name = UniqueValueName(graph, name);
  v.dtype = t.dtype();
  v.rank_known = true;
  v.shape = t.shape();
  v.initializer = std::move(t);
  v.dirty = true;
  return graph.AddValue(std::move(v));
}

const Tensor* InitializerOf(const Graph& graph, int id) {
  if (id < 0) return nullptr;
  const Value& v = graph.value(id);
  return v.initializer ? &*v.initializer : nullptr;
}

int CountUses(const Graph& graph, const std::vector<std::vector<int>>& consumers, int value) {
  int n = (int)consumers[value].size();
  for (int o : graph.outputs)
    if (o == value) ++n;
  return n;
}

void RemoveNodes(Graph& graph, std::vector<int> idx) {
  std::sort(idx.begin(), idx.end());
  idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
  for (auto it = idx.rbegin(); it != idx.rend(); ++it) graph.nodes.erase(graph.nodes.begin() + *it);
  for (auto& v : graph.values) v.producer = -1;
  for (int i = 0; i < (int)graph.nodes.size(); ++i)
    for (int o : graph.nodes[i].outputs)
      if (o >= 0) graph.values[o].producer = i;
}

}  // namespace dopt
