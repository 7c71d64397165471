#include "quant/requested_ops.h"

#include <algorithm>
#include <map>
#include <set>

#include "ops/op.h"
#include "quant/mark_quantizable.h"

namespace dopt {

Status AddRequestedOps(Graph& graph, const std::vector<std::string>& types, bool writer_can,
                       const std::string& off_reason, QuantSelection* sel) {
  if (types.empty()) return Status::Ok();
  // The ops already selected keep their names; a requested node gets its own.
  SelectedNames names(graph);
  std::set<std::string> selected;
  for (const QuantCandidate& c : sel->ops) selected.insert(c.node);
  for (int i = 0; i < (int)graph.nodes.size(); ++i)
    if (selected.count(graph.nodes[i].name)) names.Take(graph, i);
  for (const std::string& type : types) {
    int found = 0;
    for (int i = 0; i < (int)graph.nodes.size(); ++i) {
      Node& n = graph.nodes[i];
      if (n.op_type != type || !(n.domain.empty() || n.domain == "ai.onnx")) continue;
      ++found;
      const OpDef* def = OpDefOf(n);
      if (def && def->quant.weighted()) {
        return InvalidArgument("quantize_op_type '" + type + "': " + type +
                               " ops have weights and are quantized anyway; the field is for ops without weights");
      }
      names.Take(graph, i);
      const int x = n.inputs.empty() ? -1 : n.inputs[0];
      std::string why;
      if (!writer_can) {
        why = off_reason;
      } else if (x < 0 || graph.value(x).IsConstant()) {
        why = "quantize_op_type: its input 0 is a constant";
      } else if (graph.value(x).dtype != DType::kFloat32) {
        why = std::string("quantize_op_type: its input 0 is ") + DTypeName(graph.value(x).dtype) + ", not float32";
      } else if (graph.value(x).stored_float64) {
        why = "quantize_op_type: its input 0 is float64 in the source model (no QuantizeLinear/DequantizeLinear on "
              "float64 values)";
      }
      if (!why.empty()) {
        sel->excluded.push_back({n.name, n.op_type, why});
        continue;
      }
      QuantCandidate c;
      c.node = n.name;
      c.op_type = n.op_type;
      c.activation_input = 0;
      c.weight_input = -1;
      c.weight_axis = -1;
      c.activation_only = true;
      sel->ops.push_back(c);
    }
    if (found == 0) {
      return InvalidArgument("quantize_op_type '" + type + "': the model has no " + type +
                             " node (after dopt's folds; a decomposed LayerNorm is ReduceMean/Sub/Pow/Sqrt/Div: name "
                             "those types)");
    }
  }
  // Graph order, as the plan lists ops.
  std::map<std::string, int> order;
  for (int i = 0; i < (int)graph.nodes.size(); ++i) order.emplace(graph.nodes[i].name, i);
  std::stable_sort(sel->ops.begin(), sel->ops.end(), [&](const QuantCandidate& a, const QuantCandidate& b) {
    return order[a.node] < order[b.node];
  });
  return Status::Ok();
}

}  // namespace dopt
