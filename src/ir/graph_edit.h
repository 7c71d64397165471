// The one graph-editing API: unique names, new values and initializers, new nodes, attribute
// builders and the default opset. Passes, op upgrade rules, writers and tests all edit graphs
// through these; nothing here knows any op or file format (plain data, like ir/graph.h).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ir/graph.h"

namespace dopt {

// The newest default-domain opset dopt runs and writes; new graphs made in code (tests,
// helpers) use it unless they ask for another.
constexpr int kLatestOpset = 21;

using AttrList = std::vector<std::pair<std::string, Attribute>>;

// ---- attributes ----
Attribute IntAttr(int64_t v);
Attribute FloatAttr(float v);
Attribute StringAttr(std::string v);
Attribute IntsAttr(std::vector<int64_t> v);
Attribute FloatsAttr(std::vector<float> v);
Attribute StringsAttr(std::vector<std::string> v);
Attribute TensorAttr(Tensor v);
// Replaces attribute `name` of `n`, or appends it.
void SetAttr(Node& n, const std::string& name, Attribute a);
// Removes attribute `name` (nothing when absent).
void RemoveAttr(Node& n, const std::string& name);

// ---- opsets ----
// The graph's default-domain ("" or "ai.onnx") opset: from info.opsets, else the newest
// node's, else 0.
int DefaultOpset(const Graph& g);

// ---- names ----
// A value name not yet used in the graph: `base`, else base_1, base_2, ...
std::string UniqueValueName(const Graph& g, const std::string& base);
// A node name not yet used in the graph (same scheme).
std::string UniqueNodeName(const Graph& g, const std::string& base);

// ---- values ----
// Adds a constant (initializer) named after `base`; returns its id. Marked dirty.
int AddInitializer(Graph& g, const std::string& base, Tensor t);
// The same, for a constant that takes the place of (or has the type of) value `like` (a folded
// weight, a bias, an upgrade's scalar): it keeps like's Value::stored_float64. like < 0: none.
int AddInitializerLike(Graph& g, const std::string& base, Tensor t, int like);
// A 1-D int64 initializer.
int AddInt64Initializer(Graph& g, const std::string& base, const std::vector<int64_t>& vals);
// Adds an intermediate value named after `base` (dtype/shape unknown unless given).
int AddIntermediate(Graph& g, const std::string& base, DType dtype = DType::kUndefined);
// Adds an intermediate value with `like`'s dtype (or `dtype` when given) and shape.
int AddValueLike(Graph& g, const std::string& base, const Value& like, DType dtype = DType::kUndefined);

// ---- nodes ----
// A new node (not yet in a graph), marked dirty.
Node MakeNode(const std::string& op_type, const std::string& name, std::vector<int> inputs,
              std::vector<int> outputs, AttrList attrs = {}, int opset = kLatestOpset);
// Adds `n` with a name made unique in `g`; returns its index.
int AddUniqueNode(Graph& g, Node n);

// ---- queries and removal ----
// The index of the node named `name`, or -1.
int FindNodeIndex(const Graph& g, const std::string& name);
// The node named `name`, or nullptr.
const Node* FindNode(const Graph& g, const std::string& name);
// The initializer behind value `id`, or nullptr when it is not a model constant.
const Tensor* InitializerOf(const Graph& g, int id);
// How many nodes read `value`, plus one if it is a graph output (consumers = g.Consumers()).
int CountUses(const Graph& g, const std::vector<std::vector<int>>& consumers, int value);
// The one node reading `value` when no other node and no graph output does, else -1.
int OnlyReader(const Graph& g, const std::vector<std::vector<int>>& consumers, int value);
// Whether `n` is the default-domain op `type` with one output.
bool IsPlainOp(const Node& n, const char* type);
// The value behind `id` when it is a model constant (an initializer or a folded value, not a
// graph input a user may override), else nullptr.
const Tensor* ModelConstant(const Graph& g, int id);
// Whether any node or graph output reads `value`.
bool ValueUsed(const Graph& g, int value);
// Removes the nodes at the given indices (any order); values stay (unused ones are harmless).
void RemoveNodes(Graph& g, std::vector<int> node_indices);

// Hands out unique node names quickly for a writer that adds many nodes (a set, not a scan).
class NodeNamer {
 public:
  explicit NodeNamer(const Graph& g);
  std::string Take(const std::string& base);

 private:
  std::unordered_set<std::string> used_;
};

}  // namespace dopt
