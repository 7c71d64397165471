#include "passes/fuse_gelu.h"

#include <cmath>

#include "ir/graph_edit.h"

namespace dopt {

namespace {

// Whether value v is a model constant (not a graph input's default, which a user may override),
// a float of one element within 1e-4 of want, of rank 0 or of a rank up to x_rank (so that it
// broadcasts to x's shape without growing it).
bool ScalarNear(const Graph& g, int v, double want, int x_rank) {
  const Tensor* t = ModelConstant(g, v);
  if (!t || t->numel() != 1 || t->dtype() != DType::kFloat32) return false;
  if (t->rank() > 0 && (x_rank < 0 || t->rank() > x_rank)) return false;
  return std::fabs((double)t->data<float>()[0] - want) <= 1e-4 * std::fabs(want);
}

// The other input of a two-input node when one input is `v`; -1 otherwise.
int OtherInput(const Node& n, int v) {
  if (n.inputs.size() != 2) return -1;
  if (n.inputs[0] == v) return n.inputs[1];
  if (n.inputs[1] == v) return n.inputs[0];
  return -1;
}

}  // namespace

StatusOr<int> FuseGeluPass::Run(Graph& g) {
  const auto consumers = g.Consumers();
  auto only_reader = [&](int v) { return OnlyReader(g, consumers, v); };
  int opset = DefaultOpset(g);
  if (opset <= 0) opset = kLatestOpset;
  std::vector<int> dead;
  std::vector<char> used(g.nodes.size(), 0);
  std::vector<Node> added;
  for (int ei = 0; ei < (int)g.nodes.size(); ++ei) {
    const Node& erf = g.nodes[ei];
    if (!IsPlainOp(erf, "Erf") || erf.inputs.size() != 1 || used[ei]) continue;
    // x / sqrt(2) or x * (1 / sqrt(2)).
    const int d = erf.inputs[0];
    if (d < 0 || only_reader(d) != ei || g.value(d).producer < 0) continue;
    const int di = g.value(d).producer;
    const Node& scale = g.nodes[di];
    if (scale.inputs.size() != 2) continue;
    auto rank_of = [&](int v) { return v >= 0 && g.value(v).rank_known ? (int)g.value(v).shape.size() : -1; };
    int x = -1;
    if (IsPlainOp(scale, "Div") && ScalarNear(g, scale.inputs[1], std::sqrt(2.0), rank_of(scale.inputs[0]))) {
      x = scale.inputs[0];
    } else if (IsPlainOp(scale, "Mul")) {
      if (ScalarNear(g, scale.inputs[1], std::sqrt(0.5), rank_of(scale.inputs[0]))) x = scale.inputs[0];
      else if (ScalarNear(g, scale.inputs[0], std::sqrt(0.5), rank_of(scale.inputs[1]))) x = scale.inputs[1];
    }
    if (x < 0 || g.value(x).dtype != DType::kFloat32) continue;
    const int xr = rank_of(x);
    // erf + 1.
    const int ai = only_reader(erf.outputs[0]);
    if (ai < 0 || !IsPlainOp(g.nodes[ai], "Add") || !ScalarNear(g, OtherInput(g.nodes[ai], erf.outputs[0]), 1.0, xr)) continue;
    const int s = g.nodes[ai].outputs[0];
    // (erf + 1) * x, then * 0.5; or (erf + 1) * (x * 0.5).
    const int mi = only_reader(s);
    if (mi < 0 || !IsPlainOp(g.nodes[mi], "Mul")) continue;
    const int t = OtherInput(g.nodes[mi], s);
    if (t < 0) continue;
    std::vector<int> chain = {di, ei, ai, mi};
    int y = -1;
    if (t == x) {
      const int hi = only_reader(g.nodes[mi].outputs[0]);
      if (hi < 0 || !IsPlainOp(g.nodes[hi], "Mul") || !ScalarNear(g, OtherInput(g.nodes[hi], g.nodes[mi].outputs[0]), 0.5, xr))
        continue;
      chain.push_back(hi);
      y = g.nodes[hi].outputs[0];
    } else {
      const int hi = g.value(t).producer;
      if (hi < 0 || only_reader(t) != mi || !IsPlainOp(g.nodes[hi], "Mul") || OtherInput(g.nodes[hi], x) < 0 ||
          !ScalarNear(g, OtherInput(g.nodes[hi], x), 0.5, xr))
        continue;
      chain.push_back(hi);
      y = g.nodes[mi].outputs[0];
    }
    if (g.value(y).dtype != DType::kFloat32) continue;
    bool taken = false;
    for (int c : chain) taken |= used[c] != 0;
    if (taken) continue;
    for (int c : chain) {
      used[c] = 1;
      dead.push_back(c);
    }
    added.push_back(MakeNode("Gelu", g.nodes[mi].name + "_gelu", {x}, {y}, {}, opset));
  }
  if (added.empty()) return 0;
  RemoveNodes(g, dead);
  for (Node& n : added) AddUniqueNode(g, std::move(n));
  return (int)added.size();
}

}  // namespace dopt
