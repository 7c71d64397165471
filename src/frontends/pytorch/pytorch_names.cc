#include "frontends/pytorch/pytorch_names.h"

#include <set>
#include <vector>

namespace dopt {

namespace {

bool StartsWith(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

// "/layer1/layer1.0/conv/conv.0/Conv" -> "layer1.0.conv.0": a scope component either names a
// child (`conv`) or repeats its parent's component with the child's name (`conv.0`).
std::string QualifiedNameFromScope(const std::string& node_name) {
  if (node_name.empty() || node_name[0] != '/') return "";
  std::vector<std::string> parts;
  size_t start = 1;
  while (true) {
    size_t slash = node_name.find('/', start);
    if (slash == std::string::npos) break;  // the last component is the op
    parts.push_back(node_name.substr(start, slash - start));
    start = slash + 1;
  }
  std::string qualified, prev;
  for (const std::string& c : parts) {
    std::string piece = (!prev.empty() && StartsWith(c, prev + ".")) ? c.substr(prev.size() + 1) : c;
    qualified += (qualified.empty() ? "" : ".") + piece;
    prev = c;
  }
  return qualified;
}

}  // namespace

std::string ScopeModuleOfNode(const std::string& node_name) { return QualifiedNameFromScope(node_name); }

std::string ModuleOfNode(const Graph& g, const Node& n, const std::map<std::string, std::string>& modules) {
  bool folded_constant = false;
  for (int id : n.inputs) {
    if (id < 0) continue;
    const std::string& name = g.value(id).name;
    const std::string suffix = ".weight";
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      std::string m = name.substr(0, name.size() - suffix.size());
      if (modules.count(m)) return m;
    }
    if (g.value(id).initializer && StartsWith(name, "onnx::")) folded_constant = true;
  }
  if (!folded_constant) return "";
  std::string m = QualifiedNameFromScope(n.name);
  auto it = modules.find(m);
  if (it == modules.end()) {
    // The export names the k-th later call of a module `<module>_k` (`/attn_1/MatMul`).
    const size_t us = m.rfind('_');
    if (us == std::string::npos || us + 1 == m.size() ||
        m.find_first_not_of("0123456789", us + 1) != std::string::npos)
      return "";
    m = m.substr(0, us);
    it = modules.find(m);
    if (it == modules.end()) return "";
  }
  // In nn.MultiheadAttention's scope only the input projections (MatMul/Gemm on a slice of
  // in_proj_weight) run the module's weight; its Reshape/Mul constants do not.
  if (it->second == "MultiheadAttention" && n.op_type != "MatMul" && n.op_type != "Gemm") return "";
  return m;
}

int NameNodesAfterModules(Graph& g, const std::map<std::string, std::string>& modules) {
  std::set<std::string> taken;
  for (const Node& n : g.nodes) taken.insert(n.name);
  std::map<std::string, int> uses;
  int renamed = 0;
  for (Node& n : g.nodes) {
    std::string m = ModuleOfNode(g, n, modules);
    if (m.empty()) continue;
    int& k = uses[m];
    std::string name = ++k == 1 ? m : m + "#" + std::to_string(k);
    while (taken.count(name) && name != n.name) name = m + "#" + std::to_string(++k);
    if (name != n.name) {
      taken.erase(n.name);
      taken.insert(name);
      n.name = name;
      n.dirty = true;
      ++renamed;
    }
    g.info.metadata.emplace_back(kTorchModuleOfNode + n.name, m);
  }
  // A BatchNorm module that alone reads a Conv module's output: dopt may fold it into the Conv.
  auto consumers = g.Consumers();
  for (const Node& n : g.nodes) {
    const std::string m = TorchMetadata(g, kTorchModuleOfNode + n.name);
    if (m.empty() || n.outputs.empty() || n.outputs[0] < 0) continue;
    const std::vector<int>& users = consumers[n.outputs[0]];
    if (users.size() != 1) continue;
    const Node& user = g.nodes[users[0]];
    const std::string bn = TorchMetadata(g, kTorchModuleOfNode + user.name);
    auto type = modules.find(bn);
    if (type != modules.end() && type->second.find("BatchNorm") != std::string::npos) {
      g.info.metadata.emplace_back(kTorchBatchNormAfter + n.name, bn + "\t" + user.name);
    }
  }
  return renamed;
}

std::string TorchMetadata(const Graph& g, const std::string& key) {
  for (const auto& [k, v] : g.info.metadata)
    if (k == key) return v;
  return "";
}

}  // namespace dopt
