#include "passes/fuse_conv_epilogue.h"

#include <algorithm>

#include "ops/op.h"
#include "ops/op_util.h"

namespace dopt {

namespace {

int IndexOf(const std::vector<int>& v, int x) {
  auto it = std::find(v.begin(), v.end(), x);
  return it == v.end() ? -1 : (int)(it - v.begin());
}

}  // namespace

StatusOr<int> FuseConvEpiloguePass::Run(Graph& g) {
  const auto consumers = g.Consumers();
  std::vector<bool> is_output(g.values.size(), false);
  for (int o : g.outputs) is_output[o] = true;
  std::vector<bool> removed(g.nodes.size(), false);
  std::vector<int> dead;
  int changes = 0;
  for (int ci = 0; ci < (int)g.nodes.size(); ++ci) {
    if (removed[ci]) continue;
    const Node& conv = g.nodes[ci];
    if (!conv.domain.empty() || conv.outputs.size() != 1 || conv.outputs[0] < 0) continue;
    if (conv.HasAttr("dopt.epilogue_ops")) continue;
    // Anchors are the ops with OpDef::epilogue_anchor (Conv: channels on axis 1; MatMul by a
    // constant 2-D B: its columns, the last axis).
    const OpDef* anchor = OpDefOf(conv);
    if (!anchor || !anchor->epilogue_anchor) continue;
    const int channel_axis = anchor->epilogue_anchor(g, conv);
    const int root = conv.outputs[0];
    const Value& rv = g.value(root);
    if (channel_axis < 0 || is_output[root] || !IsFloat(rv.dtype) || !rv.rank_known ||
        channel_axis >= (int)rv.shape.size())
      continue;
    const int rank = (int)rv.shape.size();
    const int64_t channels = rv.shape[(size_t)channel_axis];
    if (channels <= 0) continue;

    // chain_values[k]: the value after k steps of the chain (chain_values[0] = the root).
    std::vector<int> chain_values{root};
    std::vector<kernels::EpilogueStep> steps;  // without the kSave step
    std::vector<int> chain;                    // node indices, in order
    int saved = -1;                            // index into chain_values of the value kept for *Saved steps
    size_t best = 0;
    int cur = root;
    auto in_chain = [&](int ni) { return std::find(chain.begin(), chain.end(), ni) != chain.end(); };
    auto chain_index = [&](int v) { return IndexOf(chain_values, v); };
    while (!is_output[cur]) {
      // The next step: the one reader of `cur` whose other inputs are all constants or earlier
      // values of the chain.
      int next = -1, count = 0;
      for (int ni : consumers[cur]) {
        if (in_chain(ni)) continue;
        bool ready = true;
        for (int v : g.nodes[ni].inputs)
          if (v >= 0 && chain_index(v) < 0 && !g.value(v).IsConstant()) ready = false;
        if (ready) {
          next = ni;
          ++count;
        }
      }
      if (count != 1) break;
      const Node& n = g.nodes[next];
      const OpDef* def = OpDefOf(n);
      if (!def || !def->epilogue || !n.domain.empty() || n.outputs.size() != 1 || n.outputs[0] < 0) break;
      const Value& ov = g.value(n.outputs[0]);
      if (ov.dtype != rv.dtype || !ov.rank_known || ov.shape != rv.shape) break;
      if (std::count(n.inputs.begin(), n.inputs.end(), cur) != 1) break;
      const int chain_in = IndexOf(n.inputs, cur);
      int earlier_in = -1, earlier = -1;
      bool ok = true;
      for (size_t k = 0; k < n.inputs.size(); ++k) {
        const int idx = n.inputs[k] >= 0 && n.inputs[k] != cur ? chain_index(n.inputs[k]) : -1;
        if (idx < 0) continue;
        if (earlier_in >= 0) ok = false;  // two earlier values
        earlier_in = (int)k;
        earlier = idx;
      }
      if (!ok || (earlier >= 0 && saved >= 0 && earlier != saved)) break;
      kernels::EpilogueStep step;
      if (!def->epilogue(EpilogueQuery{g, n, chain_in, earlier_in, channels, rank, channel_axis}, &step)) break;
      if (earlier >= 0) saved = earlier;
      steps.push_back(std::move(step));
      chain.push_back(next);
      cur = n.outputs[0];
      chain_values.push_back(cur);
      // A valid end: every value before `cur` is read inside the chain only.
      bool closed = true;
      for (size_t k = 0; closed && k + 1 < chain_values.size(); ++k) {
        const int v = chain_values[k];
        if (k > 0 && is_output[v]) closed = false;
        for (int r : consumers[v])
          if (!in_chain(r)) closed = false;
      }
      if (closed) best = chain.size();
    }
    if (best == 0) continue;
    steps.resize(best);
    if (saved >= 0 && (size_t)saved < best) {  // a kept value some step of the prefix reads
      kernels::EpilogueStep keep;
      keep.op = kernels::EpilogueStep::kSave;
      steps.insert(steps.begin() + saved, std::move(keep));
    }
    const int best_out = chain_values[best];
    Node& c = g.nodes[ci];
    SetEpilogueAttrs(c, steps);
    c.outputs[0] = best_out;
    g.value(best_out).producer = ci;
    for (size_t k = 0; k < best; ++k) {
      removed[chain[k]] = true;
      dead.push_back(chain[k]);
    }
    ++changes;
  }
  std::sort(dead.begin(), dead.end());
  RemoveNodes(g, dead);
  return changes;
}

}  // namespace dopt
