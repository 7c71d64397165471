#include "quant/apply_exclusions.h"

#include <set>
#include <unordered_map>

namespace dopt {

void ApplyExclusions(const Graph& g, const std::vector<std::string>& names_list, QuantSelection* sel) {
  if (names_list.empty()) return;
  std::set<std::string> names(names_list.begin(), names_list.end());
  std::unordered_map<std::string, const Node*> by_name;
  for (const Node& n : g.nodes) by_name.emplace(n.name, &n);
  std::vector<QuantCandidate> kept;
  for (const QuantCandidate& c : sel->ops) {
    std::string reason;
    if (names.count(c.node)) {
      reason = "exclude_op in the config (node name)";
    } else if (auto it = by_name.find(c.node); it != by_name.end()) {
      for (int id : it->second->inputs) {
        if (id >= 0 && g.value(id).initializer && names.count(g.value(id).name)) {
          reason = "exclude_op in the config (initializer '" + g.value(id).name + "')";
          break;
        }
      }
    }
    if (reason.empty()) {
      kept.push_back(c);
    } else {
      sel->excluded.push_back({c.node, c.op_type, reason});
    }
  }
  sel->ops = std::move(kept);
}

}  // namespace dopt
