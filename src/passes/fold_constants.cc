#include "passes/fold_constants.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "ir/graph_edit.h"
#include "ops/op.h"

namespace dopt {

namespace {

bool IsFloatStorage(DType t) { return t == DType::kFloat32 || t == DType::kFloat16 || t == DType::kBFloat16; }

// An If whose cond is a model constant is replaced by the nodes of the branch it takes, so that
// they are ordinary nodes of the graph (quantizable, foldable). Branch values get names
// `<if node>/<name>`; what the branch reads from outside maps to this graph's values by name;
// the If's outputs are produced by the branch's nodes (Identity where a branch output is not a
// node output of the branch, or is listed twice). Branches holding sub-graphs of their own are
// left alone (their outer-scope names would need renaming too).
int InlineConstantIfs(Graph& g) {
  const std::unordered_set<int> graph_inputs(g.inputs.begin(), g.inputs.end());
  std::vector<int> dead;
  const size_t original = g.nodes.size();
  for (size_t ni = 0; ni < original; ++ni) {
    const Node& n = g.nodes[ni];
    if (n.op_type != "If" || (!n.domain.empty() && n.domain != "ai.onnx") || n.inputs.size() != 1 || n.inputs[0] < 0)
      continue;
    const Value& cv = g.value(n.inputs[0]);
    if (!cv.initializer || graph_inputs.count(n.inputs[0]) || cv.initializer->numel() != 1) continue;
    const bool cond = cv.initializer->ToInt64Vector()[0] != 0;
    const Attribute* attr = n.FindAttr(cond ? "then_branch" : "else_branch");
    if (!attr || attr->kind != Attribute::Kind::kGraph || !attr->g) continue;
    const std::shared_ptr<Graph> branch = attr->g;  // kept alive while g.nodes changes
    const Graph& b = *branch;
    if (!b.inputs.empty() || b.outputs.size() != n.outputs.size()) continue;
    bool simple = true;
    for (const Node& bn : b.nodes)
      if (bn.HasSubgraphs()) simple = false;
    std::vector<int> map(b.values.size(), -1);
    for (size_t v = 0; v < b.values.size() && simple; ++v) {
      if (!b.values[v].outer_scope) continue;
      map[v] = g.FindValue(b.values[v].name);
      if (map[v] < 0) simple = false;
    }
    if (!simple) continue;
    const std::string base = n.name;
    const std::vector<int> if_outputs = n.outputs;
    const int opset = n.opset_version;
    // Branch outputs made by a branch node become the If's outputs themselves.
    std::vector<bool> via_identity(if_outputs.size(), true);
    for (size_t o = 0; o < b.outputs.size(); ++o) {
      int bv = b.outputs[o];
      if (if_outputs[o] < 0 || b.values[bv].producer < 0 || map[bv] >= 0) continue;
      map[bv] = if_outputs[o];
      g.value(if_outputs[o]).stored_float64 |= b.values[bv].stored_float64;
      via_identity[o] = false;
    }
    for (size_t v = 0; v < b.values.size(); ++v) {
      if (map[v] >= 0) continue;
      const Value& bv = b.values[v];
      if (bv.initializer) {
        map[v] = AddInitializer(g, base + "/" + bv.name, *bv.initializer);
        g.value(map[v]).stored_float64 = bv.stored_float64;  // AddValueLike keeps it itself
      } else {
        map[v] = AddValueLike(g, base + "/" + bv.name, bv);
      }
    }
    for (const Node& bn : b.nodes) {
      Node c = bn;
      c.name = UniqueNodeName(g, base + "/" + bn.name);
      c.op = nullptr;
      c.implicit_inputs.clear();
      c.source_index = -1;
      c.dirty = true;
      for (int& v : c.inputs)
        if (v >= 0) v = map[v];
      for (int& v : c.outputs)
        if (v >= 0) v = map[v];
      g.AddNode(std::move(c));
    }
    for (size_t o = 0; o < if_outputs.size(); ++o) {
      if (!via_identity[o] || if_outputs[o] < 0) continue;
      g.AddNode(MakeNode("Identity", UniqueNodeName(g, base + "/output_" + std::to_string(o)), {map[b.outputs[o]]},
                         {if_outputs[o]}, {}, opset));
    }
    dead.push_back((int)ni);
  }
  RemoveNodes(g, dead);
  return (int)dead.size();
}

}  // namespace

StatusOr<int> FoldConstantsPass::Run(Graph& g) {
  const std::unordered_set<int> graph_inputs(g.inputs.begin(), g.inputs.end());
  const std::unordered_set<int> graph_outputs(g.outputs.begin(), g.outputs.end());
  // Value id -> its constant value, in compute dtype (float16/bfloat16 as float32).
  std::unordered_map<int, Tensor> known;
  std::unordered_map<int, Tensor> computed;  // converted initializers, kept alive for the kernels
  auto constant = [&](int id) -> const Tensor* {
    if (id < 0) return nullptr;
    auto it = known.find(id);
    if (it != known.end()) return &it->second;
    const Value& v = g.value(id);
    if (!v.initializer || graph_inputs.count(id)) return nullptr;  // an overridable input is no constant
    auto c = computed.find(id);
    if (c == computed.end()) c = computed.emplace(id, ToComputeDType(*v.initializer)).first;
    return &c->second;
  };

  std::vector<int> folded_nodes;
  for (int ni = 0; ni < (int)g.nodes.size(); ++ni) {
    const Node& n = g.nodes[ni];
    if (!n.domain.empty() && n.domain != "ai.onnx") continue;
    const OpDef* def = OpDefOf(n);
    if (!def || !def->foldable || !def->run || n.HasSubgraphs()) continue;
    bool ok = !n.outputs.empty();
    for (int o : n.outputs)
      if (o >= 0 && graph_outputs.count(o)) ok = false;  // the graph's interface stays produced by a node
    std::vector<const Tensor*> ins;
    for (int id : n.inputs) {
      if (!ok) break;
      if (id < 0) {
        ins.push_back(nullptr);
        continue;
      }
      const Tensor* t = constant(id);
      if (!t) ok = false;
      ins.push_back(t);
    }
    if (!ok) continue;
    // Outputs whose size shape inference knows and finds too large are not even computed.
    for (int o : n.outputs) {
      if (o < 0) continue;
      const Value& v = g.value(o);
      if (v.ShapeFullyKnown() && NumElements(v.shape) > max_elements_) ok = false;
    }
    if (!ok) continue;
    KernelContext k(n, ins, (int)n.outputs.size(), nullptr);
    Status st = def->run(k);
    if (!st.ok()) return st.WithContext(n.Describe() + " (folding a constant)");
    for (int o = 0; o < (int)n.outputs.size(); ++o)
      if (n.outputs[o] >= 0 && k.outputs()[o].numel() > max_elements_) ok = false;
    if (!ok) continue;
    for (int o = 0; o < (int)n.outputs.size(); ++o)
      if (n.outputs[o] >= 0) known[n.outputs[o]] = std::move(k.outputs()[o]);
    folded_nodes.push_back(ni);
  }
  if (folded_nodes.empty()) return InlineConstantIfs(g);

  // Every folded value a remaining node reads becomes an initializer in its declared dtype.
  const std::unordered_set<int> dead(folded_nodes.begin(), folded_nodes.end());
  std::unordered_set<int> read_by_folded, read_by_kept;
  for (int ni = 0; ni < (int)g.nodes.size(); ++ni) {
    for (int id : g.nodes[ni].inputs)
      if (id >= 0) (dead.count(ni) ? read_by_folded : read_by_kept).insert(id);
    for (int id : g.nodes[ni].implicit_inputs)  // what sub-graphs read stays defined here
      if (id >= 0) (dead.count(ni) ? read_by_folded : read_by_kept).insert(id);
  }
  for (auto& [id, t] : known) {
    Value& v = g.value(id);
    v.producer = -1;
    v.folded.reset();
    if (!read_by_kept.count(id)) continue;
    DType want = v.dtype;
    // Kernels compute float16/bfloat16 as float32: store the value as the model declared it.
    if (want == DType::kUndefined || !(IsFloatStorage(want) && IsFloatStorage(t.dtype()))) want = t.dtype();
    v.initializer = t.CastTo(want);  // a copy: never a view of another initializer's buffer
    v.dtype = want;
    v.rank_known = true;
    v.shape = t.shape();
    v.dim_params.clear();
    v.dirty = true;
  }
  // Initializers that only the dropped nodes read go with them.
  for (int id : read_by_folded) {
    Value& v = g.value(id);
    if (!v.initializer || read_by_kept.count(id) || graph_outputs.count(id) || graph_inputs.count(id)) continue;
    v.initializer.reset();
    v.dirty = true;
  }
  RemoveNodes(g, folded_nodes);
  return (int)folded_nodes.size() + InlineConstantIfs(g);
}

}  // namespace dopt
