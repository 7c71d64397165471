#include "ir/graph_edit.h"

#include <algorithm>

namespace dopt {

Attribute IntAttr(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::kInt;
  a.i = v;
  return a;
}

Attribute FloatAttr(float v) {
  Attribute a;
  a.kind = Attribute::Kind::kFloat;
  a.f = v;
  return a;
}

Attribute StringAttr(std::string v) {
  Attribute a;
  a.kind = Attribute::Kind::kString;
  a.s = std::move(v);
  return a;
}

Attribute IntsAttr(std::vector<int64_t> v) {
  Attribute a;
  a.kind = Attribute::Kind::kInts;
  a.ints = std::move(v);
  return a;
}

Attribute FloatsAttr(std::vector<float> v) {
  Attribute a;
  a.kind = Attribute::Kind::kFloats;
  a.floats = std::move(v);
  return a;
}

Attribute StringsAttr(std::vector<std::string> v) {
  Attribute a;
  a.kind = Attribute::Kind::kStrings;
  a.strings = std::move(v);
  return a;
}

Attribute TensorAttr(Tensor v) {
  Attribute a;
  a.kind = Attribute::Kind::kTensor;
  a.t = std::move(v);
  return a;
}

void SetAttr(Node& n, const std::string& name, Attribute a) {
  for (auto& kv : n.attributes) {
    if (kv.first == name) {
      kv.second = std::move(a);
      return;
    }
  }
  n.attributes.emplace_back(name, std::move(a));
}

void RemoveAttr(Node& n, const std::string& name) {
  auto& a = n.attributes;
  a.erase(std::remove_if(a.begin(), a.end(), [&](const auto& kv) { return kv.first == name; }), a.end());
}

int DefaultOpset(const Graph& g) {
  for (const auto& [domain, version] : g.info.opsets)
    if (domain.empty() || domain == "ai.onnx") return (int)version;
  int v = 0;
  for (const Node& n : g.nodes)
    if (n.domain.empty() || n.domain == "ai.onnx") v = std::max(v, n.opset_version);
  return v;
}

std::string UniqueValueName(const Graph& g, const std::string& base) {
  if (g.FindValue(base) < 0) return base;
  for (int i = 1;; ++i) {
    std::string n = base + "_" + std::to_string(i);
    if (g.FindValue(n) < 0) return n;
  }
}

std::string UniqueNodeName(const Graph& g, const std::string& base) {
  return NodeNamer(g).Take(base);
}

int AddInitializerLike(Graph& g, const std::string& base, Tensor t, int like) {
  const bool f64 = like >= 0 && g.value(like).stored_float64;  // read before AddValue moves g.values
  const int id = AddInitializer(g, base, std::move(t));
  g.value(id).stored_float64 = f64;
  return id;
}

int AddInitializer(Graph& g, const std::string& base, Tensor t) {
  Value v;
  v.name = UniqueValueName(g, base);
  v.dtype = t.dtype();
  v.rank_known = true;
  v.shape = t.shape();
  v.initializer = std::move(t);
  v.dirty = true;
  return g.AddValue(std::move(v));
}

int AddInt64Initializer(Graph& g, const std::string& base, const std::vector<int64_t>& vals) {
  return AddInitializer(g, base, Tensor::FromInt64s({(int64_t)vals.size()}, vals));
}

int AddIntermediate(Graph& g, const std::string& base, DType dtype) {
  Value v;
  v.name = UniqueValueName(g, base);
  v.dtype = dtype;
  v.dirty = true;
  return g.AddValue(std::move(v));
}

int AddValueLike(Graph& g, const std::string& base, const Value& like, DType dtype) {
  Value v;
  v.name = UniqueValueName(g, base);
  v.dtype = dtype == DType::kUndefined ? like.dtype : dtype;
  v.stored_float64 = like.stored_float64 && v.dtype == like.dtype;
  v.rank_known = like.rank_known;
  v.shape = like.shape;
  v.dim_params = like.dim_params;
  v.dirty = true;
  return g.AddValue(std::move(v));
}

Node MakeNode(const std::string& op_type, const std::string& name, std::vector<int> inputs, std::vector<int> outputs,
              AttrList attrs, int opset) {
  Node n;
  n.name = name;
  n.op_type = op_type;
  n.opset_version = opset;
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  n.attributes = std::move(attrs);
  n.dirty = true;
  return n;
}

int AddUniqueNode(Graph& g, Node n) {
  n.name = UniqueNodeName(g, n.name);
  return g.AddNode(std::move(n));
}

const Tensor* InitializerOf(const Graph& g, int id) {
  if (id < 0) return nullptr;
  const Value& v = g.value(id);
  return v.initializer ? &*v.initializer : nullptr;
}

int FindNodeIndex(const Graph& g, const std::string& name) {
  for (int i = 0; i < (int)g.nodes.size(); ++i)
    if (g.nodes[i].name == name) return i;
  return -1;
}

const Node* FindNode(const Graph& g, const std::string& name) {
  const int i = FindNodeIndex(g, name);
  return i < 0 ? nullptr : &g.nodes[i];
}

int CountUses(const Graph& g, const std::vector<std::vector<int>>& consumers, int value) {
  int n = (int)consumers[value].size();
  for (int o : g.outputs)
    if (o == value) ++n;
  return n;
}

int OnlyReader(const Graph& g, const std::vector<std::vector<int>>& consumers, int value) {
  if (value < 0 || consumers[value].size() != 1) return -1;
  if (std::find(g.outputs.begin(), g.outputs.end(), value) != g.outputs.end()) return -1;
  return consumers[value][0];
}

bool IsPlainOp(const Node& n, const char* type) {
  return n.op_type == type && n.domain.empty() && n.outputs.size() == 1;
}

const Tensor* ModelConstant(const Graph& g, int id) {
  if (id < 0) return nullptr;
  if (std::find(g.inputs.begin(), g.inputs.end(), id) != g.inputs.end()) return nullptr;
  return g.value(id).ConstantValue();
}

bool ValueUsed(const Graph& g, int value) {
  if (std::find(g.outputs.begin(), g.outputs.end(), value) != g.outputs.end()) return true;
  for (const Node& n : g.nodes) {
    if (std::find(n.inputs.begin(), n.inputs.end(), value) != n.inputs.end()) return true;
    if (std::find(n.implicit_inputs.begin(), n.implicit_inputs.end(), value) != n.implicit_inputs.end()) return true;
  }
  return false;
}

void RemoveNodes(Graph& g, std::vector<int> idx) {
  std::sort(idx.begin(), idx.end());
  idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
  for (auto it = idx.rbegin(); it != idx.rend(); ++it) g.nodes.erase(g.nodes.begin() + *it);
  for (auto& v : g.values) v.producer = -1;
  for (int i = 0; i < (int)g.nodes.size(); ++i)
    for (int o : g.nodes[i].outputs)
      if (o >= 0) g.values[o].producer = i;
}

NodeNamer::NodeNamer(const Graph& g) {
  for (const Node& n : g.nodes) used_.insert(n.name);
}

std::string NodeNamer::Take(const std::string& base) {
  std::string n = base;
  for (int i = 1; used_.count(n); ++i) n = base + "_" + std::to_string(i);
  used_.insert(n);
  return n;
}

}  // namespace dopt
