#include "frontends/tf/tf_graph_edit.h"

#include <algorithm>
#include <set>

#include "frontends/tf/tf_graphdef.h"

namespace dopt {

namespace {

dopt_tf::AttrValue& Attr(dopt_tf::NodeDef* n, const std::string& key) { return (*n->mutable_attr())[key]; }

// Side-effect-free ops whose dead copies may be pruned: constants, their reads, and the
// arithmetic of decomposed BatchNorms (gamma * rsqrt(var + eps), beta - mean * k).
bool IsPure(const std::string& op) {
  static const char* const kPure[] = {"Const", "Identity", "Mul", "Add", "AddV2", "Sub", "RealDiv", "Rsqrt",
                                      "Sqrt", "Reciprocal", "Square", "Neg", "Reshape", "Cast"};
  for (const char* p : kPure)
    if (op == p) return true;
  return false;
}

}  // namespace

void SetTypeAttr(dopt_tf::NodeDef* n, const std::string& key, int tf_type) {
  Attr(n, key).set_type((dopt_tf::DataType)tf_type);
}
void SetFloatAttr(dopt_tf::NodeDef* n, const std::string& key, float v) { Attr(n, key).set_f(v); }
void SetIntAttr(dopt_tf::NodeDef* n, const std::string& key, int64_t v) { Attr(n, key).set_i(v); }
void SetBoolAttr(dopt_tf::NodeDef* n, const std::string& key, bool v) { Attr(n, key).set_b(v); }
void SetStringAttr(dopt_tf::NodeDef* n, const std::string& key, const std::string& v) { Attr(n, key).set_s(v); }

dopt_tf::NodeDef* TfGraphEditor::Find(const std::string& name) {
  for (auto& n : *gd_->mutable_node())
    if (n.name() == name) return &n;
  return nullptr;
}

std::string TfGraphEditor::UniqueName(const std::string& base) {
  std::set<std::string> names;
  for (const auto& n : gd_->node()) names.insert(n.name());
  if (!names.count(base)) return base;
  for (int i = 1;; ++i) {
    std::string c = base + "_" + std::to_string(i);
    if (!names.count(c)) return c;
  }
}

dopt_tf::NodeDef* TfGraphEditor::AddNode(const std::string& name, const std::string& op) {
  dopt_tf::NodeDef* n = gd_->add_node();
  n->set_name(name);
  n->set_op(op);
  return n;
}

StatusOr<std::string> TfGraphEditor::AddConst(const std::string& base, const Tensor& t) {
  DOPT_ASSIGN_OR_RETURN(dopt_tf::TensorProto tp, TensorToProto(t));
  const int tf_type = ToTfType(t.dtype());
  std::string name = UniqueName(base);
  dopt_tf::NodeDef* n = AddNode(name, "Const");
  SetTypeAttr(n, "dtype", tf_type);
  *Attr(n, "value").mutable_tensor() = std::move(tp);
  return name;
}

std::vector<std::pair<dopt_tf::NodeDef*, int>> TfGraphEditor::Consumers(const std::string& node, int index) {
  std::vector<std::pair<dopt_tf::NodeDef*, int>> out;
  for (auto& n : *gd_->mutable_node())
    for (int i = 0; i < n.input_size(); ++i) {
      TfTensorRef r = ParseTfInput(n.input(i));
      if (!r.control && r.node == node && r.index == index) out.emplace_back(&n, i);
    }
  return out;
}

std::vector<std::string> TfGraphEditor::ReadersOfOtherOutputs(const std::string& node) {
  std::vector<std::string> out;
  for (const auto& n : gd_->node())
    for (int i = 0; i < n.input_size(); ++i) {
      TfTensorRef r = ParseTfInput(n.input(i));
      if (!r.control && r.node == node && r.index != 0) out.push_back("'" + n.name() + "' (reads " + n.input(i) + ")");
    }
  return out;
}

bool TfGraphEditor::ReadsTensor(const std::string& input, const std::string& tensor) {
  TfTensorRef r = ParseTfInput(input);
  if (r.control) return false;
  for (int hops = 0; hops < 64; ++hops) {
    if (TfTensorName(r.node, r.index) == tensor) return true;
    // Pass-through ops the frontend maps to their input: output k of IdentityN is its input k.
    const dopt_tf::NodeDef* n = Find(r.node);
    if (!n) return false;
    static const std::set<std::string> kPassThrough = {"Identity", "IdentityN", "StopGradient", "Snapshot",
                                                       "CheckNumerics", "PlaceholderWithDefault"};
    if (!kPassThrough.count(n->op())) return false;
    const bool many = n->op() == "IdentityN";  // output k passes input k through
    if (!many && r.index != 0) return false;
    const int k = many ? r.index : 0;
    if (k >= n->input_size()) return false;
    r = ParseTfInput(n->input(k));
    if (r.control) return false;
  }
  return false;
}

int TfGraphEditor::PruneUnused(const std::vector<std::string>& candidates) {
  std::vector<std::string> work(candidates.begin(), candidates.end());
  int removed = 0;
  while (!work.empty()) {
    const std::string name = work.back();
    work.pop_back();
    int idx = -1;
    for (int i = 0; i < gd_->node_size(); ++i)
      if (gd_->node(i).name() == name) idx = i;
    if (idx < 0) continue;
    const dopt_tf::NodeDef& n = gd_->node(idx);
    if (!IsPure(n.op())) continue;
    bool used = false;
    for (const auto& m : gd_->node())
      for (const std::string& in : m.input()) {
        TfTensorRef r = ParseTfInput(in);
        if (r.node == name && !r.control) used = true;
      }
    if (used) continue;
    // Control edges on a pure op order nothing that matters (frozen Keras graphs
    // have a NoOp waiting on every variable read): they go with the node.
    const std::string control = "^" + name;
    for (auto& m : *gd_->mutable_node()) {
      auto* ins = m.mutable_input();
      for (int i = ins->size() - 1; i >= 0; --i)
        if (ins->Get(i) == control) ins->DeleteSubrange(i, 1);
    }
    for (const std::string& in : n.input()) work.push_back(ParseTfInput(in).node);
    gd_->mutable_node()->DeleteSubrange(idx, 1);
    ++removed;
  }
  return removed;
}

}  // namespace dopt
