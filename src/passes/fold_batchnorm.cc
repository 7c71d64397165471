#include "passes/fold_batchnorm.h"

#include <cmath>

namespace dopt {

StatusOr<int> FoldBatchNormPass::Run(Graph& g) {
  auto consumers = g.Consumers();
  std::vector<int> dead;
  int changes = 0;
  for (int bi = 0; bi < (int)g.nodes.size(); ++bi) {
    Node& bn = g.nodes[bi];
    if (bn.op_type != "BatchNormalization" || bn.inputs.size() < 5 || bn.outputs.size() != 1) continue;
    int x = bn.inputs[0];
    if (x < 0 || g.value(x).producer < 0) continue;
    int ci = g.value(x).producer;
    Node& conv = g.nodes[ci];
    bool transposed = conv.op_type == "ConvTranspose";
    if (conv.op_type != "Conv" && !transposed) continue;
    if (CountUses(g, consumers, x) != 1) continue;  // the raw conv output is needed elsewhere
    DOPT_ASSIGN_OR_RETURN(int64_t training, bn.GetInt("training_mode", 0));
    if (training) continue;
    const Tensor* w = InitializerOf(g, conv.inputs[1]);
    const Tensor* b = conv.inputs.size() > 2 ? InitializerOf(g, conv.inputs[2]) : nullptr;
    if (!w || (conv.inputs.size() > 2 && conv.inputs[2] >= 0 && !b)) continue;
    const Tensor *scale = InitializerOf(g, bn.inputs[1]), *bias = InitializerOf(g, bn.inputs[2]),
                 *mean = InitializerOf(g, bn.inputs[3]), *var = InitializerOf(g, bn.inputs[4]);
    if (!scale || !bias || !mean || !var || w->rank() < 2) continue;
    DOPT_ASSIGN_OR_RETURN(float eps, bn.GetFloat("epsilon", 1e-5f));
    DOPT_ASSIGN_OR_RETURN(int64_t group, conv.GetInt("group", 1));
    const int64_t cout = transposed ? w->dim(1) * group : w->dim(0);
    auto sv = scale->ToDoubleVector(), bv = bias->ToDoubleVector(), mv = mean->ToDoubleVector(),
         vv = var->ToDoubleVector();
    if ((int64_t)sv.size() != cout || (int64_t)bv.size() != cout || (int64_t)mv.size() != cout ||
        (int64_t)vv.size() != cout)
      continue;
    std::vector<double> k(cout);
    for (int64_t c = 0; c < cout; ++c) k[c] = sv[c] / std::sqrt(vv[c] + eps);

    // New weights, in the weights' own dtype.
    Tensor wf = w->CastTo(DType::kFloat32);
    float* wp = wf.data<float>();
    if (!transposed) {
      const int64_t per = wf.numel() / cout;
      for (int64_t c = 0; c < cout; ++c)
        for (int64_t i = 0; i < per; ++i) wp[c * per + i] = (float)(wp[c * per + i] * k[c]);
    } else {  // [Cin, Cout/group, k...]: output channel = group index * (Cout/group) + dim-1 index
      const int64_t cin = wf.dim(0), cpg = wf.dim(1), per = wf.numel() / (cin * cpg);
      const int64_t cin_pg = cin / group;
      for (int64_t i = 0; i < cin; ++i)
        for (int64_t j = 0; j < cpg; ++j) {
          int64_t oc = (i / cin_pg) * cpg + j;
          float* p = wp + (i * cpg + j) * per;
          for (int64_t e = 0; e < per; ++e) p[e] = (float)(p[e] * k[oc]);
        }
    }
    std::vector<double> bold(cout, 0.0);
    if (b) bold = b->ToDoubleVector();
    Tensor bf(DType::kFloat32, {cout});
    for (int64_t c = 0; c < cout; ++c) bf.data<float>()[c] = (float)((bold[c] - mv[c]) * k[c] + bv[c]);
    DType wdt = w->dtype();
    DType bdt = b ? b->dtype() : wdt;

    int wid = conv.inputs[1];
    if (CountUses(g, consumers, wid) == 1) {
      g.value(wid).initializer = wf.CastTo(wdt);
      g.value(wid).dirty = true;
    } else {
      conv.inputs[1] = AddInitializerLike(g, g.value(wid).name + "_bnfolded", wf.CastTo(wdt), wid);
    }
    if (b && CountUses(g, consumers, conv.inputs[2]) == 1) {
      g.value(conv.inputs[2]).initializer = bf.CastTo(bdt);
      g.value(conv.inputs[2]).dirty = true;
    } else {
      int nb = AddInitializerLike(g, b ? g.value(conv.inputs[2]).name + "_bnfolded" : bn.name + ".bias", bf.CastTo(bdt),
                                  b ? conv.inputs[2] : conv.inputs[1]);
      if (conv.inputs.size() > 2) conv.inputs[2] = nb;
      else conv.inputs.push_back(nb);
    }
    // The conv now produces the BatchNormalization's output.
    conv.outputs[0] = bn.outputs[0];
    conv.dirty = true;
    g.value(bn.outputs[0]).producer = ci;
    dead.push_back(bi);
    ++changes;
  }
  RemoveNodes(g, dead);
  return changes;
}

}  // namespace dopt
