#include "passes/fuse_group_norm.h"

#include <algorithm>

#include "ir/graph_edit.h"

namespace dopt {
namespace {

// Whether every element of the float constant v equals `want`.
bool AllEqual(const Graph& g, int v, float want) {
  const Tensor* t = ModelConstant(g, v);
  if (!t || t->dtype() != DType::kFloat32) return false;
  for (int64_t i = 0; i < t->numel(); ++i)
    if (t->data<float>()[i] != want) return false;
  return true;
}

// The per-channel values of constant v for the C channels of an x of rank `rank`: a constant
// whose only non-1 dim, right-aligned to x, is x's dim 1 ([C, 1, 1], [1, C, 1, 1]); empty when
// it is not one.
std::vector<float> PerChannel(const Graph& g, int v, int64_t C, int rank) {
  const Tensor* t = ModelConstant(g, v);
  if (!t || t->dtype() != DType::kFloat32 || t->numel() != C || t->rank() > rank) return {};
  const int cdim = 1 - (rank - t->rank());  // x's dim 1 in t's dims
  for (int d = 0; d < t->rank(); ++d)
    if (d != cdim && t->dim(d) != 1) return {};
  if (C > 1 && (cdim < 0 || t->dim(cdim) != C)) return {};
  return std::vector<float>(t->data<float>(), t->data<float>() + C);
}

}  // namespace

StatusOr<int> FuseGroupNormPass::Run(Graph& g) {
  const auto consumers = g.Consumers();
  auto only_reader = [&](int v) { return OnlyReader(g, consumers, v); };
  std::vector<int> dead;
  std::vector<Node> added;
  std::vector<char> used(g.nodes.size(), 0);
  for (int ii = 0; ii < (int)g.nodes.size(); ++ii) {
    const Node& in = g.nodes[ii];
    if (!IsPlainOp(in, "InstanceNormalization") || in.inputs.size() != 3 || used[ii]) continue;
    // Reshape(x, [N, G, -1]) in front.
    const int r1 = in.inputs[0];
    if (r1 < 0 || only_reader(r1) != ii || g.value(r1).producer < 0) continue;
    const int ri = g.value(r1).producer;
    const Node& reshape1 = g.nodes[ri];
    if (!IsPlainOp(reshape1, "Reshape") || reshape1.inputs.size() != 2) continue;
    const int x = reshape1.inputs[0];
    const Value& xv = g.value(x);
    if (x < 0 || xv.dtype != DType::kFloat32 || !xv.ShapeFullyKnown() || xv.shape.size() < 3) continue;
    const Value& r1v = g.value(r1);
    if (!r1v.ShapeFullyKnown() || r1v.shape.size() != 3 || r1v.shape[0] != xv.shape[0]) continue;
    const int64_t N = xv.shape[0], C = xv.shape[1], G = r1v.shape[1];
    if (G <= 0 || C % G != 0 || r1v.shape[2] * G * N != NumElements(xv.shape)) continue;
    // The InstanceNormalization's own scale 1 and bias 0.
    if (!AllEqual(g, in.inputs[1], 1.f) || !AllEqual(g, in.inputs[2], 0.f)) continue;
    auto eps = in.GetFloat("epsilon", 1e-5f);
    if (!eps.ok()) continue;
    // Reshape back to x's shape.
    const int n_out = in.outputs[0];
    const int r2i = only_reader(n_out);
    if (r2i < 0 || !IsPlainOp(g.nodes[r2i], "Reshape") || g.nodes[r2i].inputs[0] != n_out) continue;
    const int r2 = g.nodes[r2i].outputs[0];
    if (!g.value(r2).ShapeFullyKnown() || g.value(r2).shape != xv.shape) continue;
    std::vector<int> chain = {ri, ii, r2i};
    // Optional per-channel Mul then Add.
    std::vector<float> gamma(C, 1.f), beta(C, 0.f);
    int y = r2;
    const int rank = (int)xv.shape.size();
    const int mi = only_reader(r2);
    if (mi >= 0 && IsPlainOp(g.nodes[mi], "Mul") && g.nodes[mi].inputs.size() == 2) {
      const Node& mul = g.nodes[mi];
      const int other = mul.inputs[0] == r2 ? mul.inputs[1] : mul.inputs[0];
      std::vector<float> gm = PerChannel(g, other, C, rank);
      const int ai = only_reader(mul.outputs[0]);
      if (!gm.empty() && g.value(mul.outputs[0]).shape == xv.shape) {
        gamma = std::move(gm);
        chain.push_back(mi);
        y = mul.outputs[0];
        if (ai >= 0 && IsPlainOp(g.nodes[ai], "Add") && g.nodes[ai].inputs.size() == 2) {
          const Node& add = g.nodes[ai];
          const int o2 = add.inputs[0] == y ? add.inputs[1] : add.inputs[0];
          std::vector<float> bt = PerChannel(g, o2, C, rank);
          if (!bt.empty() && g.value(add.outputs[0]).shape == xv.shape) {
            beta = std::move(bt);
            chain.push_back(ai);
            y = add.outputs[0];
          }
        }
      }
    }
    if (g.value(y).dtype != DType::kFloat32) continue;
    bool taken = false;
    for (int c : chain) taken |= used[c] != 0;
    if (taken) continue;
    for (int c : chain) {
      used[c] = 1;
      dead.push_back(c);
    }
    const std::string base = g.nodes[ii].name + "_group_norm";
    const int sc = AddInitializer(g, base + ".scale", Tensor::FromFloats({C}, gamma));
    const int bi = AddInitializer(g, base + ".bias", Tensor::FromFloats({C}, beta));
    added.push_back(MakeNode("GroupNormalization", base, {x, sc, bi}, {y},
                             {{"num_groups", IntAttr(G)}, {"epsilon", FloatAttr(*eps)}}, 21));
  }
  if (added.empty()) return 0;
  RemoveNodes(g, dead);
  for (Node& n : added) AddUniqueNode(g, std::move(n));
  return (int)added.size();
}

}  // namespace dopt
