#include "passes/fuse_gelu.h"

#include <cmath>
#include <string>

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

// Whether v is a model constant of exactly 3 (float or integer, one element, rank up to x_rank):
// Pow(x, 3) only, never a nearby exponent (Pow of a negative x to a non-integer is NaN).
bool ExactlyThree(const Graph& g, int v, int x_rank) {
  const Tensor* t = ModelConstant(g, v);
  if (!t || t->numel() != 1 || (t->rank() > 0 && (x_rank < 0 || t->rank() > x_rank))) return false;
  if (t->dtype() == DType::kFloat32) return t->data<float>()[0] == 3.f;
  return IsInteger(t->dtype()) && t->ToInt64Vector()[0] == 3;
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
  auto rank_of = [&](int v) { return v >= 0 && g.value(v).rank_known ? (int)g.value(v).shape.size() : -1; };
  // The node producing v when v is read by node `reader` alone; -1 otherwise.
  auto sole_producer = [&](int v, int reader) {
    return v >= 0 && only_reader(v) == reader ? g.value(v).producer : -1;
  };
  // x when node ni is Op(x, c) (either order) with c a scalar constant near `want`; -1 otherwise.
  auto scaled = [&](int ni, const char* op, double want) {
    if (ni < 0 || !IsPlainOp(g.nodes[ni], op) || g.nodes[ni].inputs.size() != 2) return -1;
    const Node& n = g.nodes[ni];
    if (ScalarNear(g, n.inputs[1], want, rank_of(n.inputs[0]))) return n.inputs[0];
    if (std::string(op) == "Mul" && ScalarNear(g, n.inputs[0], want, rank_of(n.inputs[1]))) return n.inputs[1];
    return -1;
  };
  int opset = DefaultOpset(g);
  if (opset <= 0) opset = kLatestOpset;
  std::vector<int> dead;
  std::vector<char> used(g.nodes.size(), 0);
  std::vector<Node> added;
  for (int ei = 0; ei < (int)g.nodes.size(); ++ei) {
    const Node& act = g.nodes[ei];
    const bool tanh = IsPlainOp(act, "Tanh");
    if ((!tanh && !IsPlainOp(act, "Erf")) || act.inputs.size() != 1 || used[ei]) continue;
    const int di = sole_producer(act.inputs[0], ei);
    if (di < 0) continue;
    std::vector<int> chain = {di, ei};
    int x = -1;
    if (!tanh) {
      // x / sqrt(2) or x * (1 / sqrt(2)).
      x = scaled(di, "Div", std::sqrt(2.0));
      if (x < 0) x = scaled(di, "Mul", std::sqrt(0.5));
    } else {
      // sqrt(2 / pi) * (x + 0.044715 * x^3), x^3 as Pow(x, 3).
      const int a = scaled(di, "Mul", std::sqrt(2.0 / M_PI));
      const int ai = sole_producer(a, di);
      if (ai < 0 || !IsPlainOp(g.nodes[ai], "Add") || g.nodes[ai].inputs.size() != 2) continue;
      for (int side = 0; side < 2 && x < 0; ++side) {
        const int cand = g.nodes[ai].inputs[(size_t)side], m = g.nodes[ai].inputs[(size_t)(1 - side)];
        const int mi = sole_producer(m, ai);
        const int p = scaled(mi, "Mul", 0.044715);
        const int pi = sole_producer(p, mi);
        if (pi < 0 || !IsPlainOp(g.nodes[pi], "Pow") || g.nodes[pi].inputs.size() != 2 || g.nodes[pi].inputs[0] != cand ||
            !ExactlyThree(g, g.nodes[pi].inputs[1], rank_of(cand)))
          continue;
        x = cand;
        chain.insert(chain.end(), {ai, mi, pi});
      }
    }
    if (x < 0 || g.value(x).dtype != DType::kFloat32) continue;
    const int xr = rank_of(x);
    // act + 1.
    const int ai = only_reader(act.outputs[0]);
    if (ai < 0 || !IsPlainOp(g.nodes[ai], "Add") || !ScalarNear(g, OtherInput(g.nodes[ai], act.outputs[0]), 1.0, xr)) continue;
    const int s = g.nodes[ai].outputs[0];
    // (act + 1) * x, then * 0.5; or (act + 1) * (x * 0.5).
    const int mi = only_reader(s);
    if (mi < 0 || !IsPlainOp(g.nodes[mi], "Mul")) continue;
    const int t = OtherInput(g.nodes[mi], s);
    if (t < 0) continue;
    chain.insert(chain.end(), {ai, mi});
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
    AttrList attrs;
    if (tanh) attrs.push_back({"approximate", StringAttr("tanh")});
    added.push_back(MakeNode("Gelu", g.nodes[mi].name + "_gelu", {x}, {y}, std::move(attrs), opset));
  }
  if (added.empty()) return 0;
  RemoveNodes(g, dead);
  for (Node& n : added) AddUniqueNode(g, std::move(n));
  return (int)added.size();
}

}  // namespace dopt
