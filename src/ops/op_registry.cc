// Expands the op list (ops.inc) into the lookup table. Nothing else names individual ops.
#include <algorithm>
#include <unordered_map>

#include "ops/op.h"

namespace dopt {

#define DOPT_OP(NAME) const OpDef& OpDef_##NAME();
#include "ops/ops.inc"
#undef DOPT_OP

const std::vector<const OpDef*>& AllOpDefs() {
  static const std::vector<const OpDef*> all = {
#define DOPT_OP(NAME) &OpDef_##NAME(),
#include "ops/ops.inc"
#undef DOPT_OP
  };
  return all;
}

const OpDef* FindOpDef(const std::string& domain, const std::string& op_type) {
  static const std::unordered_map<std::string, const OpDef*> by_name = [] {
    std::unordered_map<std::string, const OpDef*> m;
    for (const OpDef* d : AllOpDefs()) m[d->name] = d;
    return m;
  }();
  if (!domain.empty() && domain != "ai.onnx") return nullptr;
  auto it = by_name.find(op_type);
  return it == by_name.end() ? nullptr : it->second;
}

const OpDef* OpDefOf(const Node& node) { return node.op ? node.op : FindOpDef(node.domain, node.op_type); }

Status ResolveOps(Graph& graph) {
  std::string unknown;
  int count = 0;
  for (Node& node : graph.nodes) {
    node.op = FindOpDef(node.domain, node.op_type);
    if (!node.op) {
      if (count < 10) {
        if (!unknown.empty()) unknown += ", ";
        unknown += "'" + node.name + "' (" + (node.domain.empty() ? "" : node.domain + ".") + node.op_type + ")";
      }
      ++count;
    }
  }
  if (count > 0) {
    return Unimplemented("unsupported op" + std::string(count > 1 ? "s" : "") + " in " + std::to_string(count) +
                         " node" + (count > 1 ? "s" : "") + ": " + unknown + (count > 10 ? ", ..." : ""));
  }
  return Status::Ok();
}

Status VerifyOps(const Graph& graph) {
  for (const Node& node : graph.nodes) {
    if (!node.op) return Internal(node.Describe() + ": op not resolved");
    const OpDef& d = *node.op;
    int nin = (int)node.inputs.size(), nout = (int)node.outputs.size();
    if (nin < d.min_inputs || nin > d.max_inputs) {
      return InvalidArgument(node.Describe() + ": has " + std::to_string(nin) + " inputs, the op takes " +
                             std::to_string(d.min_inputs) + " to " + std::to_string(d.max_inputs));
    }
    if (nout < d.min_outputs || nout > d.max_outputs) {
      return InvalidArgument(node.Describe() + ": has " + std::to_string(nout) + " outputs, the op gives " +
                             std::to_string(d.min_outputs) + " to " + std::to_string(d.max_outputs));
    }
    for (int i = 0; i < std::min(nin, d.min_inputs); ++i)
      if (node.inputs[i] < 0) return InvalidArgument(node.Describe() + ": required input " + std::to_string(i) + " is missing");
  }
  return Status::Ok();
}

}  // namespace dopt
