#include "passes/fuse_conv_activation.h"

#include <algorithm>

namespace dopt {

namespace {

// Reads a Clip bound: attribute (opset < 11) or constant scalar input; false when the bound is
// given by a non-constant input (then the Clip is not fused).
bool ClipBound(const Graph& g, const Node& clip, int input, const char* attr, bool* present, float* v) {
  *present = false;
  if (clip.HasAttr(attr)) {
    auto f = clip.GetFloat(attr, 0.f);
    if (!f.ok()) return false;
    *present = true;
    *v = *f;
  }
  if ((int)clip.inputs.size() > input && clip.inputs[input] >= 0) {
    const Tensor* t = g.value(clip.inputs[input]).ConstantValue();
    if (!t || t->numel() != 1) return false;
    auto d = t->ToDoubleVector();
    *present = true;
    *v = (float)d[0];
  }
  return true;
}

}  // namespace

StatusOr<int> FuseConvActivationPass::Run(Graph& g) {
  const auto consumers = g.Consumers();
  std::vector<bool> is_output(g.values.size(), false);
  for (int o : g.outputs) is_output[o] = true;
  std::vector<int> dead;
  int changes = 0;
  for (int ai = 0; ai < (int)g.nodes.size(); ++ai) {
    const Node& act = g.nodes[ai];
    if (!act.domain.empty() || act.inputs.empty() || act.outputs.size() != 1 || act.outputs[0] < 0) continue;
    if (act.op_type != "Relu" && act.op_type != "Clip" && act.op_type != "LeakyRelu") continue;
    const int x = act.inputs[0];
    if (x < 0 || is_output[x] || consumers[x].size() != 1 || g.value(x).producer < 0) continue;
    const int ci = g.value(x).producer;
    Node& conv = g.nodes[ci];
    if (conv.op_type != "Conv" || !conv.domain.empty() || conv.outputs.size() != 1 || conv.outputs[0] != x) continue;
    if (conv.HasAttr("dopt.fused_activation")) continue;
    if (g.value(x).dtype != g.value(act.outputs[0]).dtype) continue;
    std::vector<std::pair<std::string, Attribute>> extra;
    if (act.op_type == "LeakyRelu") {
      auto alpha = act.GetFloat("alpha", 0.01f);
      if (!alpha.ok()) continue;
      extra.push_back({"dopt.fused_alpha", FloatAttr(*alpha)});
    } else if (act.op_type == "Clip") {
      bool has_lo, has_hi;
      float lo = 0, hi = 0;
      if (!ClipBound(g, act, 1, "min", &has_lo, &lo) || !ClipBound(g, act, 2, "max", &has_hi, &hi)) continue;
      if (has_lo) extra.push_back({"dopt.fused_min", FloatAttr(lo)});
      if (has_hi) extra.push_back({"dopt.fused_max", FloatAttr(hi)});
    }
    Attribute kind;
    kind.kind = Attribute::Kind::kString;
    kind.s = act.op_type;
    conv.attributes.push_back({"dopt.fused_activation", kind});
    for (auto& e : extra) conv.attributes.push_back(std::move(e));
    conv.outputs[0] = act.outputs[0];
    g.value(act.outputs[0]).producer = ci;
    dead.push_back(ai);
    ++changes;
  }
  RemoveNodes(g, dead);
  return changes;
}

}  // namespace dopt
