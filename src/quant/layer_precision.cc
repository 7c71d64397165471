#include "quant/layer_precision.h"

#include <unordered_map>

namespace dopt {

StatusOr<std::map<std::string, std::string>> ResolveLayerPrecision(const Graph& g, const QuantSelection& sel,
                                                                   const std::vector<PrecisionRequest>& requests) {
  std::unordered_map<std::string, const Node*> by_name;
  for (const Node& n : g.nodes) by_name.emplace(n.name, &n);
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < requests.size(); ++i) {
    const PrecisionRequest& r = requests[i];
    const std::string what = "layer_precision #" + std::to_string(i + 1) +
                             (r.op.empty() ? " (tensor '" + r.tensor + "')" : " (op '" + r.op + "')");
    if (r.precision != "int8" && r.precision != "int16" && r.precision != "float") {
      return InvalidArgument(what + ": precision '" + r.precision + "' (INT8, INT16 or FLOAT expected)");
    }
    int matched = 0;
    for (const QuantCandidate& c : sel.ops) {
      bool hit = c.node == r.op;
      if (!r.tensor.empty()) {
        auto it = by_name.find(c.node);
        const Node* n = it == by_name.end() ? nullptr : it->second;
        hit = n && c.activation_input < (int)n->inputs.size() && n->inputs[c.activation_input] >= 0 &&
              g.value(n->inputs[c.activation_input]).name == r.tensor;
      }
      if (!hit) continue;
      out[c.node] = r.precision;
      ++matched;
    }
    if (matched) continue;
    bool left_float = false;
    for (const ExcludedOp& e : sel.excluded) left_float = left_float || (!r.op.empty() && e.node == r.op);
    if (left_float) continue;
    if (!r.op.empty()) {
      return NotFound(what + ": no quantizable op of the model has this name" +
                      std::string(by_name.count(r.op) ? " (the node has no int8 form)" : ""));
    }
    return NotFound(what + ": no quantizable op of the model reads this tensor as its activation");
  }
  return out;
}

std::map<std::string, int> ApplyLayerPrecision(const std::map<std::string, std::string>& precisions, const std::string& why,
                                               QuantSelection* sel, std::vector<RaisedOp>* raised) {
  std::map<std::string, int> bits;
  std::vector<QuantCandidate> kept;
  for (const QuantCandidate& c : sel->ops) {
    auto it = precisions.find(c.node);
    const std::string p = it == precisions.end() ? "int8" : it->second;
    if (p == "float") {
      sel->excluded.push_back({c.node, c.op_type, why});
      raised->push_back({c.node, c.op_type, "float", why});
      continue;
    }
    if (p == "int16") {
      bits[c.node] = 16;
      raised->push_back({c.node, c.op_type, "int16", why});
    }
    kept.push_back(c);
  }
  sel->ops = std::move(kept);
  return bits;
}

}  // namespace dopt
