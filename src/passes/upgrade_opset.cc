// Default-domain opset upgrade: the driver. What to do with each op is the op's own
// OpDef::upgrade (src/ops/<op>.cc): a rewrite, or a note that nothing changed from opset 7 to 21
// that needs one. Sources: ONNX's Changelog.md / Operators.md and the adapters of ONNX's
// version converter.
#include "passes/upgrade_opset.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "ops/op.h"
#include "ops/shape_inference.h"

namespace dopt {
namespace {

// The IR version each opset was released with (ONNX's versioning table).
int64_t IrVersionFor(int opset) {
  if (opset <= 8) return 3;
  if (opset == 9) return 4;
  if (opset == 10) return 5;
  if (opset == 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

// Checks every node of `graph` and, recursively, of its sub-graphs, collecting what to rewrite.
struct Todo {
  Graph* graph;
  int node;
  const OpDef* def;
};
Status CollectUpgrades(Graph& graph, int target, std::vector<Todo>* todo) {
  for (int i = 0; i < (int)graph.nodes.size(); ++i) {
    Node& n = graph.nodes[i];
    for (auto& kv : n.attributes) {
      if (kv.second.kind != Attribute::Kind::kGraph || !kv.second.g) continue;
      Status st = CollectUpgrades(*kv.second.g, target, todo);
      if (!st.ok()) return st.WithContext(n.Describe() + ", sub-graph '" + kv.first + "'");
    }
    if (!n.domain.empty() && n.domain != "ai.onnx") continue;
    if (n.opset_version > target)
      return InvalidArgument(n.Describe() + ": is at opset " + std::to_string(n.opset_version) +
                             ", newer than the target " + std::to_string(target) + " (dopt does not downgrade)");
    if (n.opset_version < kUpgradeMinOpset)
      return Unimplemented(n.Describe() + ": opset " + std::to_string(n.opset_version) + " is older than " +
                           std::to_string(kUpgradeMinOpset) + ", the oldest dopt upgrades");
    const OpDef* d = FindOpDef(n.domain, n.op_type);
    if (!d || (!d->upgrade.rewrite && !d->upgrade.unchanged))
      return Unimplemented(n.Describe() + ": no opset upgrade rule for op " + n.op_type);
    todo->push_back({&graph, i, d});
  }
  return Status::Ok();
}

// Whether a sub-graph of `n` (at any depth) had a node rewritten: the node is then written anew.
bool MarkChangedOwners(Graph& graph, const std::vector<const Graph*>& changed) {
  bool any = std::find(changed.begin(), changed.end(), &graph) != changed.end();
  for (Node& n : graph.nodes) {
    for (auto& kv : n.attributes) {
      if (kv.second.kind != Attribute::Kind::kGraph || !kv.second.g) continue;
      if (MarkChangedOwners(*kv.second.g, changed)) {
        n.dirty = true;
        any = true;
      }
    }
  }
  return any;
}

}  // namespace

Status UpgradeOpset(Graph& graph, int target) {
  if (target < kUpgradeMinOpset || target > kUpgradeMaxOpset)
    return InvalidArgument("cannot upgrade to opset " + std::to_string(target) + ": supported targets are " +
                           std::to_string(kUpgradeMinOpset) + " to " + std::to_string(kUpgradeMaxOpset));
  // Check every node first (sub-graphs' too), so an unsupported one leaves the graph untouched.
  std::vector<Todo> todo;
  DOPT_RETURN_IF_ERROR(CollectUpgrades(graph, target, &todo));
  // Sub-graphs whose nodes a rewrite may have changed: their owners are written anew.
  std::vector<const Graph*> changed;
  for (const Todo& t : todo) {
    int from = t.graph->nodes[t.node].opset_version;
    if (from == target) continue;
    if (t.def->upgrade.rewrite) {
      Status st = t.def->upgrade.rewrite(*t.graph, t.node, from, target);
      if (!st.ok()) return st.WithContext("upgrading to opset " + std::to_string(target));
      if (t.graph != &graph) changed.push_back(t.graph);
    }
    t.graph->nodes[t.node].opset_version = target;
  }
  MarkChangedOwners(graph, changed);
  bool found = false;
  for (auto& o : graph.info.opsets) {
    if (o.first.empty() || o.first == "ai.onnx") {
      o.second = target;
      found = true;
    }
  }
  if (!found) graph.info.opsets.emplace_back("", target);
  graph.info.ir_version = std::max(graph.info.ir_version, IrVersionFor(target));
  Status st = PrepareGraph(graph);
  if (!st.ok()) return st.WithContext("after upgrading to opset " + std::to_string(target));
  return Status::Ok();
}

}  // namespace dopt
