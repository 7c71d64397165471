#include "passes/fold_pad.h"

#include <algorithm>

#include "ops/pad.h"

namespace dopt {
namespace {

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
    if (rank < 3 || !ConstantZeroPads(g, pad, rank, &p)) continue;
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
