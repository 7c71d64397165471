#include "passes/channels_last.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <string>

#include "ops/op.h"
#include "ops/op_util.h"

namespace dopt {

namespace {

int Find(std::vector<int>& parent, int i) {
  while (parent[(size_t)i] != i) i = parent[(size_t)i] = parent[(size_t)parent[(size_t)i]];
  return i;
}

bool Masked(const ChannelsLastPlan& p, size_t input) { return input < 64 && ((p.inputs >> input) & 1); }

// Values of the regions read channels-first: by another node (or a non-activation input of a
// region node, or a sub-graph by name), or as graph outputs (other than the layout-free ones).
void ComputeNeedFirst(const Graph& g, const std::vector<std::optional<ChannelsLastPlan>>& plans,
                      const std::vector<bool>& last, const std::vector<bool>& value_last,
                      const std::vector<bool>& layout_free, std::vector<bool>* need_first) {
  std::fill(need_first->begin(), need_first->end(), false);
  for (int o : g.outputs) (*need_first)[(size_t)o] = value_last[(size_t)o] && !layout_free[(size_t)o];
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      const int v = n.inputs[k];
      if (v >= 0 && value_last[(size_t)v] && !(last[i] && Masked(*plans[i], k))) (*need_first)[(size_t)v] = true;
    }
    // Values a node's sub-graphs (If/Loop/Scan bodies) read by name.
    for (int v : n.implicit_inputs)
      if (v >= 0 && value_last[(size_t)v]) (*need_first)[(size_t)v] = true;
  }
}

// A channels-last copy of 4-D value `of`: its shape and symbolic dim names permuted.
int AddChannelsLastValue(Graph& g, int of) {
  const int id = AddValueLike(g, g.value(of).name + "_nhwc", g.value(of));
  Value& v = g.value(id);
  v.shape = ToChannelsLast(v.shape);
  if (v.dim_params.size() == 4) v.dim_params = {v.dim_params[0], v.dim_params[2], v.dim_params[3], v.dim_params[1]};
  return id;
}

}  // namespace

bool ChannelsLastEnabled() {
  static const bool on = [] {
    const char* e = std::getenv("DOPT_CHANNELS_LAST");
    return !(e && std::string(e) == "0");
  }();
  return on;
}

StatusOr<int> ChannelsLastPass::Run(Graph& g) {
  const size_t nn = g.nodes.size(), nv = g.values.size();
  stand_ins_.clear();
  std::vector<bool> layout_free(nv, false);
  for (int v : layout_free_)
    if (v >= 0 && (size_t)v < nv) layout_free[(size_t)v] = true;
  std::vector<std::optional<ChannelsLastPlan>> plans(nn);
  bool any_anchor = false;
  for (size_t i = 0; i < nn; ++i) {
    const Node& n = g.nodes[i];
    const OpDef* def = OpDefOf(n);
    if (!def || !def->channels_last || !n.domain.empty() || IsChannelsLast(n)) continue;
    ChannelsLastPlan p;
    if (!def->channels_last(g, n, &p) || p.inputs == 0) continue;
    any_anchor |= p.anchor;
    plans[i] = std::move(p);
  }
  if (!any_anchor) return 0;

  // Which nodes run channels-last: anchors (unless ruled out), and nodes whose activation
  // inputs all are; then regions with fewer than two anchors are ruled out, until none is.
  std::vector<bool> ruled_out(nn, false), last(nn, false), value_last(nv, false), need_first(nv, false);
  for (;;) {
    std::fill(last.begin(), last.end(), false);
    std::fill(value_last.begin(), value_last.end(), false);
    for (size_t i = 0; i < nn; ++i) {
      if (!plans[i] || ruled_out[i]) continue;
      const Node& n = g.nodes[i];
      bool ok = plans[i]->anchor;
      if (!ok) {
        ok = true;
        for (size_t k = 0; k < n.inputs.size(); ++k)
          if (Masked(*plans[i], k) && (n.inputs[k] < 0 || !value_last[(size_t)n.inputs[k]])) ok = false;
      }
      if (!ok) continue;
      last[i] = true;
      for (int o : n.outputs)
        if (o >= 0) value_last[(size_t)o] = true;
    }
    std::vector<int> parent(nn);
    std::iota(parent.begin(), parent.end(), 0);
    for (size_t i = 0; i < nn; ++i) {
      if (!last[i]) continue;
      const Node& n = g.nodes[i];
      for (size_t k = 0; k < n.inputs.size(); ++k) {
        if (!Masked(*plans[i], k) || n.inputs[k] < 0 || !value_last[(size_t)n.inputs[k]]) continue;
        const int p = g.value(n.inputs[k]).producer;
        if (p >= 0) parent[(size_t)Find(parent, p)] = Find(parent, (int)i);
      }
    }
    // The transposes each region needs: channels-first values it reads, and values of its own
    // read channels-first.
    ComputeNeedFirst(g, plans, last, value_last, layout_free, &need_first);
    std::vector<int> anchors(nn, 0), edges(nn, 0);
    std::set<std::pair<int, int>> entries;  // (region, outside value)
    for (size_t i = 0; i < nn; ++i) {
      if (!last[i]) continue;
      const int root = Find(parent, (int)i);
      if (plans[i]->anchor) ++anchors[(size_t)root];
      const Node& n = g.nodes[i];
      for (size_t k = 0; k < n.inputs.size(); ++k)
        if (Masked(*plans[i], k) && n.inputs[k] >= 0 && !value_last[(size_t)n.inputs[k]] &&
            entries.insert({root, n.inputs[k]}).second) {
          ++edges[(size_t)root];
        }
    }
    for (size_t v = 0; v < nv; ++v)
      if (need_first[v]) ++edges[(size_t)Find(parent, g.value((int)v).producer)];
    // Worth it: at least two convolutions, and more of them than transposes.
    bool changed = false;
    for (size_t i = 0; i < nn; ++i) {
      const size_t root = (size_t)Find(parent, (int)i);
      if (last[i] && plans[i]->anchor && (anchors[root] < 2 || anchors[root] <= edges[root])) {
        ruled_out[i] = true;
        changed = true;
      }
    }
    if (!changed) break;
  }

  int opset = DefaultOpset(g);
  if (opset <= 0) opset = kLatestOpset;
  std::vector<Node> added;
  std::map<int, int> to_last;  // channels-first value -> its channels-last copy
  std::vector<int> new_id(nv, -1);
  int changes = 0;
  auto transpose = [&](int from, int to, std::vector<int64_t> perm) {
    added.push_back(MakeNode("Transpose", UniqueNodeName(g, g.value(to).name + "_transpose"), {from}, {to},
                             {{"perm", IntsAttr(std::move(perm))}}, opset));
  };
  // New ids first (the producers come before their readers in the node order).
  for (size_t i = 0; i < nn; ++i) {
    if (!last[i]) continue;
    const std::vector<int> outs = g.nodes[i].outputs;
    for (int o : outs) {
      if (o < 0) continue;
      new_id[(size_t)o] = AddChannelsLastValue(g, o);
    }
  }
  for (size_t i = 0; i < nn; ++i) {
    if (!last[i]) continue;
    ChannelsLastPlan& p = *plans[i];
    for (size_t k = 0; k < g.nodes[i].inputs.size(); ++k) {
      const int v = g.nodes[i].inputs[k];
      if (!Masked(p, k) || v < 0) continue;
      if (value_last[(size_t)v]) {
        g.nodes[i].inputs[k] = new_id[(size_t)v];
        continue;
      }
      auto it = to_last.find(v);
      if (it == to_last.end()) {
        const int id = AddChannelsLastValue(g, v);
        transpose(v, id, {0, 2, 3, 1});
        it = to_last.emplace(v, id).first;
      }
      g.nodes[i].inputs[k] = it->second;
    }
    for (auto& c : p.constants) {
      const int id = AddInitializer(g, g.value(g.nodes[i].inputs[(size_t)c.first]).name + "_nhwc", std::move(c.second));
      g.nodes[i].inputs[(size_t)c.first] = id;
    }
    Node& n = g.nodes[i];
    for (auto& a : p.set_attrs) SetAttr(n, a.first, std::move(a.second));
    for (int& o : n.outputs) {
      if (o < 0) continue;
      const int old = o;
      o = new_id[(size_t)old];
      g.value(o).producer = (int)i;
      g.value(old).producer = -1;
      if (need_first[(size_t)old]) {
        transpose(o, old, {0, 3, 1, 2});
      } else if (layout_free[(size_t)old]) {
        stand_ins_[o] = old;
      }
    }
    ++changes;
  }
  for (Node& n : added) AddUniqueNode(g, std::move(n));
  // A layout-free value with a stand-in is no longer computed: it stops being a graph output.
  std::set<int> gone;
  for (const auto& kv : stand_ins_) gone.insert(kv.second);
  g.outputs.erase(std::remove_if(g.outputs.begin(), g.outputs.end(), [&](int o) { return gone.count(o) > 0; }),
                  g.outputs.end());
  return changes;
}

}  // namespace dopt
