// Expands the op list (ops.inc) into the lookup table. Nothing else names individual ops.
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

}  // namespace dopt
