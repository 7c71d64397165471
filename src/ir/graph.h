// The graph IR: values, nodes with typed attributes, and the graph that owns them.
// It knows nothing of any file format; frontends build it and exporters read it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "dopt/status.h"
#include "ir/tensor.h"

namespace dopt {

struct OpDef;
class Graph;

struct Attribute {
  enum class Kind { kFloat, kInt, kString, kTensor, kFloats, kInts, kStrings, kGraph, kUnsupported };
  Kind kind = Kind::kUnsupported;
  float f = 0;
  int64_t i = 0;
  std::string s;
  Tensor t;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  // kGraph: a sub-graph (If's branches, Loop's and Scan's body). Copies of the node share it.
  std::shared_ptr<Graph> g;
};
const char* AttributeKindName(Attribute::Kind k);

// A value: a graph input, an initializer (constant), or a node output.
struct Value {
  std::string name;
  DType dtype = DType::kUndefined;
  bool rank_known = false;
  Shape shape;                          // -1 marks an unknown dim
  std::vector<std::string> dim_params;  // symbolic names of dims, where the model gave them
  int producer = -1;                    // index of the producing node, -1 for inputs/constants
  std::optional<Tensor> initializer;    // set for weights and other model constants
  std::optional<Tensor> folded;         // constant value found by shape inference (not saved)
  int source_index = -1;                // frontend bookkeeping for faithful round trips
  bool dirty = false;                   // changed since loading: exporters must regenerate it
  // In a sub-graph: a name the sub-graph uses but does not define, resolved by name against
  // the enclosing graphs (ONNX outer-scope reference). Set by ResolveOuterScope().
  bool outer_scope = false;
  // The source model stores this value as float64; dopt computes it as float32 (dtype kFloat32)
  // and the frontend writes it back as float64. Quantization leaves ops that touch it alone.
  bool stored_float64 = false;

  bool IsConstant() const { return initializer.has_value() || folded.has_value(); }
  const Tensor* ConstantValue() const {
    return initializer ? &*initializer : folded ? &*folded : nullptr;
  }
  bool ShapeFullyKnown() const {
    if (!rank_known) return false;
    for (int64_t d : shape) if (d < 0) return false;
    return true;
  }
};

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;       // "" for the default op set
  int opset_version = 0;    // version of the op set the node's semantics follow
  std::vector<int> inputs;  // value ids; -1 for an omitted optional input
  std::vector<int> outputs; // value ids; -1 for an omitted optional output
  std::vector<std::pair<std::string, Attribute>> attributes;  // in model order
  // Values of this graph that the node's sub-graphs (kGraph attributes, at any depth) read by
  // name: dependencies like inputs for ordering, lifetimes, consumers and dead-code removal,
  // but not passed to the kernel. Recomputed by ResolveOuterScope() (every TopoSort).
  std::vector<int> implicit_inputs;
  const OpDef* op = nullptr;  // opaque here; set by ResolveOps() (ops/op.h)
  int source_index = -1;
  bool dirty = false;

  const Attribute* FindAttr(const std::string& n) const;
  // Typed getters: return `def` when absent, an error when present with another kind.
  StatusOr<int64_t> GetInt(const std::string& n, int64_t def) const;
  StatusOr<float> GetFloat(const std::string& n, float def) const;
  StatusOr<std::string> GetString(const std::string& n, const std::string& def) const;
  StatusOr<std::vector<int64_t>> GetInts(const std::string& n, std::vector<int64_t> def = {}) const;
  StatusOr<std::vector<float>> GetFloats(const std::string& n, std::vector<float> def = {}) const;
  bool HasAttr(const std::string& n) const { return FindAttr(n) != nullptr; }
  // The sub-graph attribute `n`, or nullptr when absent or not a graph.
  const Graph* FindGraphAttr(const std::string& n) const;
  bool HasSubgraphs() const;
  // "node 'name' (Type)" for messages.
  std::string Describe() const;
};

// Where a graph came from, for exporters that write back the same format.
struct ModelInfo {
  std::string format;  // "onnx", "tf", ...
  std::string path;
  int64_t ir_version = 0;
  std::vector<std::pair<std::string, int64_t>> opsets;  // domain -> version
  std::string producer_name, producer_version;
  std::vector<std::pair<std::string, std::string>> metadata;
  std::shared_ptr<const std::string> source_bytes;  // the original file, opaque to the IR
  // An ONNX model read from a file does not keep source_bytes after loading (they would hold a
  // second copy of the weights for the whole run); its writer reads the file again and checks
  // with these, taken before the first read, that it is still the same file.
  struct SourceFile {
    std::string path;
    int64_t size = 0, mtime_ns = 0, ctime_ns = 0, inode = 0, device = 0;
    bool operator==(const SourceFile&) const = default;
  };
  std::optional<SourceFile> source_file;
};

class Graph {
 public:
  std::string name;
  ModelInfo info;
  std::vector<Value> values;
  std::vector<Node> nodes;  // topologically sorted after Verify()/TopoSort()
  std::vector<int> inputs;  // graph inputs (not initializers)
  std::vector<int> outputs;
  // True for a sub-graph (If/Loop/Scan body): values marked outer_scope come from the
  // enclosing graphs. A top-level graph has none.
  bool is_subgraph = false;

  int AddValue(Value v);
  int FindValue(const std::string& name) const;  // -1 when absent
  Value& value(int id) { return values[id]; }
  const Value& value(int id) const { return values[id]; }
  int AddNode(Node n);  // fills producer links of its outputs

  // Sub-graphs: marks the names each sub-graph (recursively) uses without defining as
  // outer_scope values there, and sets each node's implicit_inputs to the values of this graph
  // its sub-graphs read. In a sub-graph, names defined nowhere here become outer_scope values
  // too; in a top-level graph they are an error naming the node. Called by TopoSort().
  Status ResolveOuterScope();
  // Recomputes producer links and sorts nodes topologically (implicit inputs count as inputs);
  // errors on cycles and on values with two producers or used before any definition.
  Status TopoSort();
  // Checks structure: ids in range, each value defined once, every input defined before
  // use, graph outputs defined. (Op-level checks: VerifyOps in ops/op.h.)
  Status Verify() const;
  // Value ids consumed by each node, per value (for lifetimes and passes); implicit inputs
  // (what a node's sub-graphs read) count.
  std::vector<std::vector<int>> Consumers() const;

 private:
  std::unordered_map<std::string, int> by_name_;
};

}  // namespace dopt
