#include "passes/pass.h"

#include <algorithm>

#include "ops/shape_inference.h"

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

}  // namespace dopt
