#include "passes/fold_affine.h"

namespace dopt {

namespace {

// The constant `k` as one value per channel of an output of rank `rank` whose channel axis is 1,
// or false when it does not broadcast that way (or would enlarge the output).
bool PerChannel(const Tensor& k, int rank, int64_t channels, std::vector<double>* out) {
  if (k.rank() > rank) return false;
  const int lead = rank - k.rank();
  for (int i = 0; i < rank; ++i) {
    int64_t d = i < lead ? 1 : k.dim(i - lead);
    if (d == 1) continue;
    if (i != 1 || d != channels) return false;
  }
  std::vector<double> v = k.ToDoubleVector();
  out->assign(channels, v.empty() ? 0.0 : v[0]);
  if ((int64_t)v.size() == channels)
    for (int64_t c = 0; c < channels; ++c) (*out)[c] = v[c];
  return !v.empty();
}

// Stores `t` (float32) as the new value of input `slot` of node `ni`, in dtype `dt`: in place
// when nothing else uses that initializer, else as a new one named after it.
void StoreInput(Graph& g, int ni, int slot, const std::vector<std::vector<int>>& consumers,
                const Tensor& t, DType dt, const std::string& fresh_name) {
  Node& node = g.nodes[ni];
  int id = slot < (int)node.inputs.size() ? node.inputs[slot] : -1;
  if (id >= 0 && CountUses(g, consumers, id) == 1) {
    Value& v = g.value(id);
    v.initializer = t.CastTo(dt);
    v.dtype = dt;
    v.rank_known = true;
    v.shape = t.shape();
    v.dirty = true;
    return;
  }
  int nid = AddInitializerLike(g, id >= 0 ? g.value(id).name + "_affinefolded" : fresh_name, t.CastTo(dt), id);
  Node& n2 = g.nodes[ni];  // AddInitializer does not touch nodes, but stay safe
  while ((int)n2.inputs.size() <= slot) n2.inputs.push_back(-1);
  n2.inputs[slot] = nid;
}

// Tries to fold node `ni` (Mul/Div/Add/Sub) into the Conv/ConvTranspose/Gemm feeding it.
StatusOr<bool> TryFold(Graph& g, int ni, const std::vector<std::vector<int>>& consumers) {
  const Node& n = g.nodes[ni];
  const bool mul = n.op_type == "Mul", div = n.op_type == "Div", add = n.op_type == "Add",
             sub = n.op_type == "Sub";
  if (!(mul || div || add || sub) || n.inputs.size() != 2 || n.outputs.size() != 1 || n.outputs[0] < 0)
    return false;
  for (int slot = 0; slot < 2; ++slot) {
    if (slot == 1 && (sub || div)) break;  // (a - y) and (k / y) are not affine in y's weights
    const int x = n.inputs[slot], kid = n.inputs[1 - slot];
    if (x < 0 || kid < 0 || x == kid) continue;
    const int pi = g.value(x).producer;
    if (pi < 0) continue;
    const Node& p = g.nodes[pi];
    const bool gemm = p.op_type == "Gemm", convt = p.op_type == "ConvTranspose";
    if (p.op_type != "Conv" && !convt && !gemm) continue;
    if (p.outputs.size() != 1 || p.outputs[0] != x || p.inputs.size() < 2) continue;
    if (CountUses(g, consumers, x) != 1) continue;  // the raw output is needed elsewhere
    if (!IsFloat(g.value(x).dtype)) continue;
    const Tensor* k = g.value(kid).ConstantValue();
    if (!k || !IsFloat(k->dtype())) continue;
    const Tensor* w = InitializerOf(g, p.inputs[1]);
    if (!w || !IsFloat(w->dtype())) continue;
    const int bid = p.inputs.size() > 2 ? p.inputs[2] : -1;
    const Tensor* b = InitializerOf(g, bid);
    if (bid >= 0 && (!b || !IsFloat(b->dtype()))) continue;

    int64_t cout = 0;
    int out_rank = 0;
    bool trans_b = false;
    int64_t group = 1;
    double beta = 1.0;
    if (gemm) {
      if (w->rank() != 2) continue;
      DOPT_ASSIGN_OR_RETURN(int64_t tb, p.GetInt("transB", 0));
      DOPT_ASSIGN_OR_RETURN(float bt, p.GetFloat("beta", 1.0f));
      trans_b = tb != 0;
      beta = bt;
      cout = trans_b ? w->dim(0) : w->dim(1);
      out_rank = 2;
    } else {
      if (w->rank() < 3) continue;
      DOPT_ASSIGN_OR_RETURN(group, p.GetInt("group", 1));
      if (group < 1 || (convt && w->dim(0) % group != 0)) continue;
      cout = convt ? w->dim(1) * group : w->dim(0);
      out_rank = w->rank();
    }
    if (cout <= 0) continue;
    std::vector<double> kv;
    if (!PerChannel(*k, out_rank, cout, &kv)) continue;
    bool zero = false;
    for (double v : kv) zero |= v == 0.0;
    if (div && zero) continue;
    if ((add || sub) && beta == 0.0) continue;  // Gemm: C is ignored, a shift cannot go there

    // The bias as a flat list; element i belongs to channel i % cout.
    std::vector<double> bv(cout, 0.0);
    Shape bshape{cout};
    if (b) {
      if (b->numel() == 1) {
        bv.assign(cout, b->ToDoubleVector()[0]);
      } else if (gemm ? (b->rank() >= 1 && b->rank() <= 2 && b->dim(b->rank() - 1) == cout)
                      : b->numel() == cout) {
        bv = b->ToDoubleVector();
        bshape = b->shape();
      } else {
        continue;  // a Gemm C that varies per row only ([M, 1]) or is malformed
      }
    }
    const bool scale = mul || div;
    // Weights: a scale multiplies every weight of an output channel.
    Tensor wf = w->CastTo(DType::kFloat32);
    if (scale) {
      float* wp = wf.data<float>();
      auto apply = [&](float& e, int64_t c) { e = (float)(div ? e / kv[c] : e * kv[c]); };
      if (gemm && !trans_b) {  // [K, N]
        for (int64_t i = 0; i < wf.numel(); ++i) apply(wp[i], i % cout);
      } else if (!convt) {  // [Cout, ...] (Conv) or [N, K] (Gemm, transB = 1)
        const int64_t per = wf.numel() / cout;
        for (int64_t c = 0; c < cout; ++c)
          for (int64_t i = 0; i < per; ++i) apply(wp[c * per + i], c);
      } else {  // [Cin, Cout/group, k...]
        const int64_t cin = wf.dim(0), cpg = wf.dim(1), per = wf.numel() / (cin * cpg);
        const int64_t cin_pg = cin / group;
        for (int64_t i = 0; i < cin; ++i)
          for (int64_t j = 0; j < cpg; ++j) {
            const int64_t oc = (i / cin_pg) * cpg + j;
            for (int64_t e = 0; e < per; ++e) apply(wp[(i * cpg + j) * per + e], oc);
          }
      }
    }
    Tensor bf(DType::kFloat32, bshape);
    for (int64_t i = 0; i < (int64_t)bv.size(); ++i) {
      const int64_t c = i % cout;
      double v = bv[i];
      if (mul) v *= kv[c];
      else if (div) v /= kv[c];
      else v += (sub ? -kv[c] : kv[c]) / beta;
      bf.data<float>()[i] = (float)v;
    }
    const DType wdt = w->dtype(), bdt = b ? b->dtype() : wdt;
    const std::string out_name = g.value(n.outputs[0]).name;
    if (scale) StoreInput(g, pi, 1, consumers, wf, wdt, "");
    if (b || !scale) StoreInput(g, pi, 2, consumers, bf, bdt, out_name + ".bias");
    // The folded op now produces the Mul/Add's output.
    const int y = g.nodes[ni].outputs[0];
    g.nodes[pi].outputs[0] = y;
    g.nodes[pi].dirty = true;
    g.value(y).producer = pi;
    return true;
  }
  return false;
}

}  // namespace

StatusOr<int> FoldAffinePass::Run(Graph& g) {
  int changes = 0;
  for (bool again = true; again;) {
    again = false;
    const auto consumers = g.Consumers();
    for (int ni = 0; ni < (int)g.nodes.size(); ++ni) {
      DOPT_ASSIGN_OR_RETURN(bool folded, TryFold(g, ni, consumers));
      if (!folded) continue;
      RemoveNodes(g, {ni});
      ++changes;
      again = true;  // consumers are stale now: rescan (Conv -> Mul -> Add folds step by step)
      break;
    }
  }
  return changes;
}

}  // namespace dopt
