#include "passes/fold_constants.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "ops/op.h"

namespace dopt {

namespace {

bool IsFloatStorage(DType t) { return t == DType::kFloat32 || t == DType::kFloat16 || t == DType::kBFloat16; }

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
  if (folded_nodes.empty()) return 0;

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
  return (int)folded_nodes.size();
}

}  // namespace dopt
