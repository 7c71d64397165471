#include "passes/equalize.h"

#include <cfloat>
#include <cmath>
#include <map>
#include <set>

namespace dopt {

namespace {

// Ops between Conv1 and its consumers that the chain may pass through (Relu, then MaxPool ...).
constexpr int kMaxBetween = 4;

// One chain: Conv1 (node index) whose output channels feed the consumers' input channels.
struct Chain {
  int conv1 = -1;
  int64_t channels = 0;
  std::vector<int> consumers;
  std::vector<bool> depthwise;
};

// The output of `n` when it works channel by channel and is positively homogeneous, so that
// n(x / s) = n(x) / s for a positive per-channel s: Relu, Clip with min 0 and no max, MaxPool,
// AveragePool, GlobalMaxPool, GlobalAveragePool (one output only); else -1. Clip with a finite
// max (ReLU6) is not: relu6(x / s) != relu6(x) / s.
StatusOr<int> HomogeneousActivation(const Graph& g, const Node& n) {
  if (n.outputs.size() != 1 || n.inputs.empty() || !n.domain.empty()) return -1;
  if (n.op_type == "Relu" || n.op_type == "MaxPool" || n.op_type == "AveragePool" ||
      n.op_type == "GlobalMaxPool" || n.op_type == "GlobalAveragePool")
    return n.outputs[0];
  if (n.op_type != "Clip" || !n.domain.empty()) return -1;
  double lo = -INFINITY, hi = INFINITY;
  if (n.opset_version > 0 && n.opset_version < 11) {
    DOPT_ASSIGN_OR_RETURN(float a, n.GetFloat("min", -FLT_MAX));
    DOPT_ASSIGN_OR_RETURN(float b, n.GetFloat("max", FLT_MAX));
    lo = a;
    hi = b;
  } else {
    for (int slot = 1; slot <= 2; ++slot) {
      if ((int)n.inputs.size() <= slot || n.inputs[slot] < 0) continue;
      const Tensor* t = g.value(n.inputs[slot]).ConstantValue();
      if (!t || t->numel() != 1) return -1;
      (slot == 1 ? lo : hi) = t->ToDoubleVector()[0];
    }
  }
  if (lo == 0.0 && (std::isinf(hi) || hi >= (double)FLT_MAX)) return n.outputs[0];
  return -1;
}

// The chain that starts at node `ci`, or a chain with no consumers when it is not one.
StatusOr<Chain> FindChain(const Graph& g, int ci, const std::vector<std::vector<int>>& consumers) {
  Chain ch;
  const Node& c1 = g.nodes[ci];
  if (c1.op_type != "Conv" || !c1.domain.empty() || c1.outputs.size() != 1 || c1.outputs[0] < 0 ||
      c1.inputs.size() < 2)
    return ch;
  const Tensor* w1 = InitializerOf(g, c1.inputs[1]);
  if (!w1 || !IsFloat(w1->dtype()) || w1->rank() < 3 || w1->dim(0) <= 0) return ch;
  const int64_t C = w1->dim(0);
  if (c1.inputs.size() > 2 && c1.inputs[2] >= 0) {
    const Tensor* b1 = InitializerOf(g, c1.inputs[2]);
    if (!b1 || !IsFloat(b1->dtype()) || b1->numel() != C) return ch;
  }
  int y = c1.outputs[0];
  if (!IsFloat(g.value(y).dtype)) return ch;
  // Through up to kMaxBetween ReLU-like ops and pools, each the only reader of the value before.
  for (int step = 0; step < kMaxBetween; ++step) {
    if (CountUses(g, consumers, y) != 1 || consumers[y].size() != 1) break;
    const Node& a = g.nodes[consumers[y][0]];
    DOPT_ASSIGN_OR_RETURN(int z, HomogeneousActivation(g, a));
    if (z < 0 || a.inputs[0] != y || !IsFloat(g.value(z).dtype)) break;
    bool other = false;  // y read again by another input (Clip's bounds are constants)
    for (size_t s = 1; s < a.inputs.size(); ++s) other |= a.inputs[s] == y;
    if (other) break;
    y = z;
  }
  if (CountUses(g, consumers, y) != (int)consumers[y].size() || consumers[y].empty()) return ch;  // a graph output
  std::vector<int> found;
  std::vector<bool> dw;
  for (int ni : consumers[y]) {
    const Node& c2 = g.nodes[ni];
    if (c2.op_type != "Conv" || !c2.domain.empty() || c2.inputs.size() < 2 || c2.inputs[0] != y) return ch;
    for (size_t s = 1; s < c2.inputs.size(); ++s)
      if (c2.inputs[s] == y) return ch;
    if (!c2.implicit_inputs.empty()) return ch;
    if (c2.inputs[1] == c1.inputs[1]) return ch;
    const Tensor* w2 = InitializerOf(g, c2.inputs[1]);
    if (!w2 || !IsFloat(w2->dtype()) || w2->rank() != w1->rank()) return ch;
    DOPT_ASSIGN_OR_RETURN(int64_t group, c2.GetInt("group", 1));
    if (group == 1 && w2->dim(1) == C) {
      dw.push_back(false);
    } else if (group == C && w2->dim(1) == 1 && w2->dim(0) % C == 0) {
      dw.push_back(true);
    } else {
      return ch;  // grouped convolutions other than depthwise: skipped
    }
    found.push_back(ni);
  }
  ch.conv1 = ci;
  ch.channels = C;
  ch.consumers = std::move(found);
  ch.depthwise = std::move(dw);
  return ch;
}

// Stores `t` (float32) as input `slot` of node `ni` in dtype `dt`: in place when nothing else
// uses that initializer, else as a new initializer named after it.
void Store(Graph& g, int ni, int slot, const std::vector<std::vector<int>>& consumers, const Tensor& t, DType dt) {
  const int id = g.nodes[ni].inputs[slot];
  if (CountUses(g, consumers, id) == 1) {
    Value& v = g.value(id);
    v.initializer = t.CastTo(dt);
    v.dirty = true;
    return;
  }
  const int nid = AddInitializerLike(g, g.value(id).name + "_equalized", t.CastTo(dt), id);
  g.nodes[ni].inputs[slot] = nid;
  g.nodes[ni].dirty = true;
}

}  // namespace

StatusOr<int> EqualizePass::Run(Graph& g) {
  channels_ = 0;
  rescaled_.clear();
  const auto consumers = g.Consumers();
  std::vector<Chain> chains;
  for (int i = 0; i < (int)g.nodes.size(); ++i) {
    DOPT_ASSIGN_OR_RETURN(Chain ch, FindChain(g, i, consumers));
    if (!ch.consumers.empty()) chains.push_back(std::move(ch));
  }
  if (chains.empty()) return 0;

  // float32 working copies of every weight and bias a chain touches, by node.
  std::map<int, Tensor> w, b;
  for (const Chain& ch : chains) {
    const Node& c1 = g.nodes[ch.conv1];
    if (!w.count(ch.conv1)) w.emplace(ch.conv1, InitializerOf(g, c1.inputs[1])->CastTo(DType::kFloat32));
    if (c1.inputs.size() > 2 && c1.inputs[2] >= 0)
      b.emplace(ch.conv1, InitializerOf(g, c1.inputs[2])->CastTo(DType::kFloat32));
    for (int ni : ch.consumers)
      if (!w.count(ni)) w.emplace(ni, InitializerOf(g, g.nodes[ni].inputs[1])->CastTo(DType::kFloat32));
  }
  std::vector<std::vector<double>> total(chains.size());
  for (size_t k = 0; k < chains.size(); ++k) total[k].assign(chains[k].channels, 1.0);

  for (int round = 0; round < kMaxRounds; ++round) {
    double moved = 0;
    for (size_t k = 0; k < chains.size(); ++k) {
      const Chain& ch = chains[k];
      const int64_t C = ch.channels;
      Tensor& w1 = w.at(ch.conv1);
      const int64_t per1 = w1.numel() / C;
      float* p1 = w1.data<float>();
      std::vector<double> r1(C, 0.0), r2(C, 0.0);
      for (int64_t c = 0; c < C; ++c)
        for (int64_t i = 0; i < per1; ++i) r1[c] = std::max(r1[c], (double)std::fabs(p1[c * per1 + i]));
      for (size_t j = 0; j < ch.consumers.size(); ++j) {
        const Tensor& w2 = w.at(ch.consumers[j]);
        const float* p2 = w2.data<float>();
        const int64_t cout = w2.dim(0), cin = w2.dim(1), per = w2.numel() / (cout * cin);
        for (int64_t o = 0; o < cout; ++o)
          for (int64_t i = 0; i < cin; ++i) {
            const int64_t c = ch.depthwise[j] ? o / (cout / C) : i;
            const float* s = p2 + (o * cin + i) * per;
            for (int64_t e = 0; e < per; ++e) r2[c] = std::max(r2[c], (double)std::fabs(s[e]));
          }
      }
      std::vector<double> sc(C, 1.0);
      for (int64_t c = 0; c < C; ++c) {
        double s = (r1[c] > 0 && r2[c] > 0) ? std::sqrt(r1[c] / r2[c]) : 1.0;
        if (!std::isfinite(s) || s <= 0) s = 1.0;
        sc[c] = s;
        total[k][c] *= s;
        moved = std::max(moved, std::fabs(s - 1.0));
      }
      for (int64_t c = 0; c < C; ++c)
        for (int64_t i = 0; i < per1; ++i) p1[c * per1 + i] = (float)(p1[c * per1 + i] / sc[c]);
      auto bi = b.find(ch.conv1);
      if (bi != b.end()) {
        float* pb = bi->second.data<float>();
        for (int64_t c = 0; c < C; ++c) pb[c] = (float)(pb[c] / sc[c]);
      }
      for (size_t j = 0; j < ch.consumers.size(); ++j) {
        Tensor& w2 = w.at(ch.consumers[j]);
        float* p2 = w2.data<float>();
        const int64_t cout = w2.dim(0), cin = w2.dim(1), per = w2.numel() / (cout * cin);
        for (int64_t o = 0; o < cout; ++o)
          for (int64_t i = 0; i < cin; ++i) {
            const int64_t c = ch.depthwise[j] ? o / (cout / C) : i;
            float* s = p2 + (o * cin + i) * per;
            for (int64_t e = 0; e < per; ++e) s[e] = (float)(s[e] * sc[c]);
          }
      }
    }
    if (moved < 1e-4) break;
  }

  // Store once, in each tensor's own dtype.
  for (auto& [ni, t] : w) Store(g, ni, 1, consumers, t, InitializerOf(g, g.nodes[ni].inputs[1])->dtype());
  for (auto& [ni, t] : b) Store(g, ni, 2, consumers, t, InitializerOf(g, g.nodes[ni].inputs[2])->dtype());
  int changed = 0;
  for (size_t k = 0; k < chains.size(); ++k) {
    int n = 0;
    for (double s : total[k]) n += std::fabs(s - 1.0) > 1e-3;
    channels_ += n;
    changed += n > 0;
    // Every chain, even one whose factors all stay within 1e-3 of 1: its weights moved anyway.
    const std::vector<float> f(total[k].begin(), total[k].end());
    rescaled_[g.nodes[chains[k].conv1].name].out_divided = f;
    for (int ni : chains[k].consumers) rescaled_[g.nodes[ni].name].in_multiplied = f;
  }
  return changed;
}

}  // namespace dopt
