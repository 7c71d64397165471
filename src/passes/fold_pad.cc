#include "passes/fold_pad.h"

#include <algorithm>

namespace dopt {
namespace {

// The Pad's full-rank pads [begin_0.., end_0..] when it is a constant-mode pad with fill 0
// and constant pads; false otherwise.
bool ZeroFillPads(const Graph& g, const Node& pad, int rank, std::vector<int64_t>* full) {
  auto mode = pad.GetString("mode", "constant");
  if (!mode.ok() || *mode != "constant") return false;
  std::vector<int64_t> p;
  if (pad.inputs.size() > 1 && pad.inputs[1] >= 0) {
    const Tensor* t = ModelConstant(g, pad.inputs[1]);
    if (!t) return false;
    p = t->ToInt64Vector();
  } else {
    const char* attr = pad.HasAttr("pads") ? "pads" : "paddings";
    auto a = pad.GetInts(attr);
    if (!a.ok() || a->empty()) return false;
    p = *a;
  }
  if (pad.inputs.size() > 2 && pad.inputs[2] >= 0) {
    const Tensor* v = ModelConstant(g, pad.inputs[2]);
    if (!v || v->numel() > 1) return false;
    if (v->numel() == 1 && v->CastTo(DType::kFloat32).data<float>()[0] != 0.f) return false;
  } else {
    auto v = pad.GetFloat("value", 0.f);
    if (!v.ok() || *v != 0.f) return false;
  }
  std::vector<int64_t> axes;
  if (pad.inputs.size() > 3 && pad.inputs[3] >= 0) {
    const Tensor* t = ModelConstant(g, pad.inputs[3]);
    if (!t) return false;
    axes = t->ToInt64Vector();
  } else {
    for (int i = 0; i < rank; ++i) axes.push_back(i);
  }
  const size_t k = axes.size();
  if (p.size() != 2 * k) return false;
  full->assign(2 * (size_t)rank, 0);
  for (size_t i = 0; i < k; ++i) {
    int64_t a = axes[i] < 0 ? axes[i] + rank : axes[i];
    if (a < 0 || a >= rank) return false;
    (*full)[a] = p[i];
    (*full)[a + rank] = p[i + k];
  }
  return std::all_of(full->begin(), full->end(), [](int64_t v) { return v >= 0; });
}

// Whether the Conv can take `extra` spatial pads [begins.., ends..] in its own.
bool ConvTakesPads(const Node& conv, int pad_value, size_t nspatial) {
  if (conv.op_type != "Conv" || !conv.domain.empty() || conv.inputs.empty() || conv.inputs[0] != pad_value)
    return false;
  for (size_t i = 1; i < conv.inputs.size(); ++i)
    if (conv.inputs[i] == pad_value) return false;
  auto ap = conv.GetString("auto_pad", "NOTSET");
  if (!ap.ok() || (*ap != "NOTSET" && *ap != "VALID")) return false;
  auto pads = conv.GetInts("pads");
  return pads.ok() && (pads->empty() || pads->size() == 2 * nspatial);
}

}  // namespace

StatusOr<int> FoldPadPass::Run(Graph& g) {
  auto consumers = g.Consumers();
  std::vector<int> dead;
  int changes = 0;
  for (int pi = 0; pi < (int)g.nodes.size(); ++pi) {
    const Node& pad = g.nodes[pi];
    if (pad.op_type != "Pad" || !pad.domain.empty() || pad.inputs.empty() || pad.outputs.size() != 1) continue;
    const int x = pad.inputs[0], y = pad.outputs[0];
    if (x < 0 || y < 0 || !g.value(x).rank_known) continue;
    if (std::find(g.outputs.begin(), g.outputs.end(), y) != g.outputs.end()) continue;
    const int rank = (int)g.value(x).shape.size();
    std::vector<int64_t> p;
    if (rank < 3 || !ZeroFillPads(g, pad, rank, &p)) continue;
    const std::vector<int>& readers = consumers[y];
    // A sub-graph reads by name: it cannot be rewired.
    if (std::any_of(readers.begin(), readers.end(), [&](int ci) {
          const auto& imp = g.nodes[ci].implicit_inputs;
          return std::find(imp.begin(), imp.end(), y) != imp.end();
        }))
      continue;
    const bool none = std::all_of(p.begin(), p.end(), [](int64_t v) { return v == 0; });
    if (!none) {
      if (p[0] || p[1] || p[rank] || p[rank + 1] || readers.empty()) continue;
      bool all_convs = true;
      for (int ci : readers) all_convs = all_convs && ConvTakesPads(g.nodes[ci], y, rank - 2);
      if (!all_convs) continue;
    }
    for (int ci : readers) {
      Node& n = g.nodes[ci];
      for (int& in : n.inputs)
        if (in == y) in = x;
      if (!none) {
        const size_t ns = (size_t)rank - 2;
        // VALID ignores any pads attribute: the conv's own padding is then zero.
        std::vector<int64_t> cp;
        if (n.GetString("auto_pad", "NOTSET").value() != "VALID") cp = n.GetInts("pads").value();
        cp.resize(2 * ns, 0);
        for (size_t d = 0; d < ns; ++d) {
          cp[d] += p[2 + d];
          cp[ns + d] += p[rank + 2 + d];
        }
        SetAttr(n, "pads", IntsAttr(cp));
        RemoveAttr(n, "auto_pad");
      }
      n.dirty = true;
    }
    dead.push_back(pi);
    ++changes;
  }
  RemoveNodes(g, dead);
  return changes;
}

}  // namespace dopt
