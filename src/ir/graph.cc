#include "ir/graph.h"

#include <algorithm>
#include <queue>


namespace dopt {

const char* AttributeKindName(Attribute::Kind k) {
  switch (k) {
    case Attribute::Kind::kFloat: return "float";
    case Attribute::Kind::kInt: return "int";
    case Attribute::Kind::kString: return "string";
    case Attribute::Kind::kTensor: return "tensor";
    case Attribute::Kind::kFloats: return "floats";
    case Attribute::Kind::kInts: return "ints";
    case Attribute::Kind::kStrings: return "strings";
    case Attribute::Kind::kGraph: return "graph";
    default: return "unsupported";
  }
}

const Attribute* Node::FindAttr(const std::string& n) const {
  for (const auto& kv : attributes)
    if (kv.first == n) return &kv.second;
  return nullptr;
}

const Graph* Node::FindGraphAttr(const std::string& n) const {
  const Attribute* a = FindAttr(n);
  return a && a->kind == Attribute::Kind::kGraph ? a->g.get() : nullptr;
}

bool Node::HasSubgraphs() const {
  for (const auto& kv : attributes)
    if (kv.second.kind == Attribute::Kind::kGraph && kv.second.g) return true;
  return false;
}

std::string Node::Describe() const {
  return "node '" + name + "' (" + op_type + ")";
}

namespace {
Status KindError(const Node& node, const std::string& attr, Attribute::Kind want, Attribute::Kind got) {
  return InvalidArgument(node.Describe() + ": attribute '" + attr + "' must be " + AttributeKindName(want) +
                         ", got " + AttributeKindName(got));
}
}  // namespace

StatusOr<int64_t> Node::GetInt(const std::string& n, int64_t def) const {
  const Attribute* a = FindAttr(n);
  if (!a) return def;
  if (a->kind != Attribute::Kind::kInt) return KindError(*this, n, Attribute::Kind::kInt, a->kind);
  return a->i;
}

StatusOr<float> Node::GetFloat(const std::string& n, float def) const {
  const Attribute* a = FindAttr(n);
  if (!a) return def;
  if (a->kind == Attribute::Kind::kInt) return (float)a->i;
  if (a->kind != Attribute::Kind::kFloat) return KindError(*this, n, Attribute::Kind::kFloat, a->kind);
  return a->f;
}

StatusOr<std::string> Node::GetString(const std::string& n, const std::string& def) const {
  const Attribute* a = FindAttr(n);
  if (!a) return def;
  if (a->kind != Attribute::Kind::kString) return KindError(*this, n, Attribute::Kind::kString, a->kind);
  return a->s;
}

StatusOr<std::vector<int64_t>> Node::GetInts(const std::string& n, std::vector<int64_t> def) const {
  const Attribute* a = FindAttr(n);
  if (!a) return def;
  if (a->kind == Attribute::Kind::kInt) return std::vector<int64_t>{a->i};
  if (a->kind != Attribute::Kind::kInts) return KindError(*this, n, Attribute::Kind::kInts, a->kind);
  return a->ints;
}

StatusOr<std::vector<float>> Node::GetFloats(const std::string& n, std::vector<float> def) const {
  const Attribute* a = FindAttr(n);
  if (!a) return def;
  if (a->kind == Attribute::Kind::kFloat) return std::vector<float>{a->f};
  if (a->kind != Attribute::Kind::kFloats) return KindError(*this, n, Attribute::Kind::kFloats, a->kind);
  return a->floats;
}

int Graph::AddValue(Value v) {
  int id = (int)values.size();
  by_name_[v.name] = id;
  values.push_back(std::move(v));
  return id;
}

int Graph::FindValue(const std::string& n) const {
  auto it = by_name_.find(n);
  if (it != by_name_.end() && it->second < (int)values.size() && values[it->second].name == n) return it->second;
  for (int i = 0; i < (int)values.size(); ++i)  // by_name_ may be stale after edits
    if (values[i].name == n) return i;
  return -1;
}

int Graph::AddNode(Node n) {
  int id = (int)nodes.size();
  for (int o : n.outputs)
    if (o >= 0) values[o].producer = id;
  nodes.push_back(std::move(n));
  return id;
}

std::vector<std::vector<int>> Graph::Consumers() const {
  std::vector<std::vector<int>> c(values.size());
  for (int i = 0; i < (int)nodes.size(); ++i) {
    for (int v : nodes[i].inputs)
      if (v >= 0 && (c[v].empty() || c[v].back() != i)) c[v].push_back(i);
    for (int v : nodes[i].implicit_inputs)
      if (v >= 0 && v < (int)c.size() && (c[v].empty() || c[v].back() != i)) c[v].push_back(i);
  }
  return c;
}

Status Graph::ResolveOuterScope() {
  bool any = false;
  for (const Node& n : nodes)
    if (n.HasSubgraphs() || !n.implicit_inputs.empty()) any = true;
  if (!any && !is_subgraph) return Status::Ok();
  // Each node's sub-graphs first (innermost first): what they read from outside.
  for (Node& n : nodes) {
    n.implicit_inputs.clear();
    if (!n.HasSubgraphs()) continue;
    std::vector<std::string> names;
    for (auto& kv : n.attributes) {
      if (kv.second.kind != Attribute::Kind::kGraph || !kv.second.g) continue;
      Graph& sub = *kv.second.g;
      sub.is_subgraph = true;
      Status st = sub.ResolveOuterScope();
      if (!st.ok()) return st.WithContext(n.Describe() + ", sub-graph '" + kv.first + "'");
      for (const Value& v : sub.values)
        if (v.outer_scope) names.push_back(v.name);
    }
    for (const std::string& name : names) {
      int id = FindValue(name);
      if (id < 0) {
        if (!is_subgraph) {
          return InvalidArgument(n.Describe() + ": its sub-graph reads '" + name +
                                 "', which no enclosing graph defines");
        }
        Value v;
        v.name = name;
        id = AddValue(std::move(v));
      }
      if (std::find(n.implicit_inputs.begin(), n.implicit_inputs.end(), id) == n.implicit_inputs.end())
        n.implicit_inputs.push_back(id);
    }
    std::sort(n.implicit_inputs.begin(), n.implicit_inputs.end());
  }
  if (!is_subgraph) return Status::Ok();
  // This sub-graph's own outer-scope names: read here (by a node, a sub-graph or as an
  // output) and defined nowhere here.
  std::vector<char> defined(values.size(), 0), used(values.size(), 0);
  for (int v : inputs)
    if (v >= 0 && v < (int)values.size()) defined[v] = 1;
  for (size_t v = 0; v < values.size(); ++v)
    if (values[v].initializer) defined[v] = 1;
  auto mark = [&](int v) {
    if (v >= 0 && v < (int)values.size()) used[v] = 1;
  };
  for (const Node& n : nodes) {
    for (int v : n.outputs)
      if (v >= 0 && v < (int)values.size()) defined[v] = 1;
    for (int v : n.inputs) mark(v);
    for (int v : n.implicit_inputs) mark(v);
  }
  for (int v : outputs) mark(v);
  for (size_t v = 0; v < values.size(); ++v) values[v].outer_scope = used[v] && !defined[v];
  return Status::Ok();
}

Status Graph::TopoSort() {
  DOPT_RETURN_IF_ERROR(ResolveOuterScope());
  const int n = (int)nodes.size();
  std::vector<int> producer(values.size(), -1);
  for (int i = 0; i < n; ++i) {
    for (int o : nodes[i].outputs) {
      if (o < 0) continue;
      if (o >= (int)values.size()) return Internal(nodes[i].Describe() + ": output id out of range");
      if (producer[o] >= 0) {
        return InvalidArgument("value '" + values[o].name + "' is produced by both " +
                               nodes[producer[o]].Describe() + " and " + nodes[i].Describe());
      }
      if (values[o].initializer) {
        return InvalidArgument("value '" + values[o].name + "' is both an initializer and the output of " +
                               nodes[i].Describe());
      }
      producer[o] = i;
    }
  }
  std::vector<int> indeg(n, 0);
  std::vector<std::vector<int>> succ(n);
  for (int i = 0; i < n; ++i) {
    for (const std::vector<int>* list : {&nodes[i].inputs, &nodes[i].implicit_inputs}) {
      for (int v : *list) {
        if (v < 0) continue;
        if (v >= (int)values.size()) return Internal(nodes[i].Describe() + ": input id out of range");
        int p = producer[v];
        if (p >= 0) {
          if (p == i) return InvalidArgument("the graph has a cycle through " + nodes[i].Describe());
          succ[p].push_back(i);
          ++indeg[i];
        } else if (!values[v].initializer && !values[v].outer_scope &&
                   std::find(inputs.begin(), inputs.end(), v) == inputs.end()) {
          return InvalidArgument(nodes[i].Describe() + ": input '" + values[v].name +
                                 "' is not a graph input, an initializer or any node's output");
        }
      }
    }
  }
  // Kahn's algorithm, smallest original index first, so the order stays close to the model's.
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int i = 0; i < n; ++i)
    if (indeg[i] == 0) ready.push(i);
  std::vector<int> order;
  order.reserve(n);
  while (!ready.empty()) {
    int i = ready.top();
    ready.pop();
    order.push_back(i);
    for (int s : succ[i])
      if (--indeg[s] == 0) ready.push(s);
  }
  if ((int)order.size() != n) {
    for (int i = 0; i < n; ++i)
      if (indeg[i] > 0) return InvalidArgument("the graph has a cycle through " + nodes[i].Describe());
  }
  std::vector<Node> sorted;
  sorted.reserve(n);
  for (int i : order) sorted.push_back(std::move(nodes[i]));
  nodes = std::move(sorted);
  for (auto& v : values) v.producer = -1;
  for (int i = 0; i < n; ++i)
    for (int o : nodes[i].outputs)
      if (o >= 0) values[o].producer = i;
  for (int o : outputs) {
    if (o < 0 || o >= (int)values.size()) return Internal("graph output id out of range");
    const Value& v = values[o];
    if (v.producer < 0 && !v.initializer && !v.outer_scope &&
        std::find(inputs.begin(), inputs.end(), o) == inputs.end())
      return InvalidArgument("graph output '" + v.name + "' is never produced");
  }
  return Status::Ok();
}

Status Graph::Verify() const {
  std::vector<int> defined(values.size(), 0);
  for (int v : inputs) defined[v] = 1;
  for (size_t v = 0; v < values.size(); ++v)
    if (values[v].initializer || (is_subgraph && values[v].outer_scope)) defined[v] = 1;
  for (const Node& node : nodes) {
    for (int v : node.inputs)
      if (v >= 0 && !defined[v])
        return InvalidArgument(node.Describe() + ": input '" + values[v].name + "' is used before it is defined");
    for (int v : node.implicit_inputs)
      if (v < 0 || v >= (int)values.size() || !defined[v])
        return InvalidArgument(node.Describe() + ": its sub-graph reads '" +
                               (v >= 0 && v < (int)values.size() ? values[v].name : std::string("?")) +
                               "' before it is defined");
    for (int v : node.outputs)
      if (v >= 0) defined[v] = 1;
  }
  for (int o : outputs)
    if (!defined[o]) return InvalidArgument("graph output '" + values[o].name + "' is never produced");
  return Status::Ok();
}

}  // namespace dopt
