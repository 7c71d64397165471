#include "quant/smooth_quant.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "ir/graph_edit.h"

namespace dopt {

namespace {

// The input-channel axis of `n`'s weight when the selected candidate `c` can take smoothing
// factors on its activation (SmoothableWeightAxis, its activation float32 with the weight's
// input channels as its last dim and read by `n` only as input 0), else -1.
int SmoothableAxis(const Graph& g, const Node& n, const QuantCandidate& c) {
  if (c.activation_pair || c.activation_only || c.weight2_input >= 0 || c.activation_input != 0) return -1;
  const int axis = SmoothableWeightAxis(g, n);
  if (axis < 0) return -1;
  const Value& x = g.value(n.inputs[0]);
  if (x.dtype != DType::kFloat32 || !x.rank_known || x.shape.empty()) return -1;
  if (x.shape.back() != InitializerOf(g, n.inputs[1])->dim(axis)) return -1;
  if (std::find(n.inputs.begin() + 1, n.inputs.end(), n.inputs[0]) != n.inputs.end()) return -1;
  return axis;
}

}  // namespace

std::vector<SmoothingGroup> SmoothingGroups(const Graph& graph, const QuantSelection& sel) {
  std::vector<SmoothingGroup> groups;
  for (const QuantCandidate& c : sel.ops) {
    const Node* n = FindNode(graph, c.node);
    if (!n || SmoothableAxis(graph, *n, c) < 0) continue;
    const std::string& x = graph.value(n->inputs[0]).name;
    auto it = std::find_if(groups.begin(), groups.end(), [&](const SmoothingGroup& s) { return s.tensor == x; });
    if (it == groups.end()) {
      groups.push_back({x, {}});
      it = groups.end() - 1;
    }
    it->ops.push_back(c.node);
  }
  return groups;
}

std::vector<ActivationSmoothing> SmoothingFactors(const Graph& graph, const std::vector<SmoothingGroup>& groups,
                                                  const std::map<std::string, std::vector<float>>& absmax,
                                                  float alpha) {
  std::vector<ActivationSmoothing> out;
  for (const SmoothingGroup& grp : groups) {
    auto a = absmax.find(grp.tensor);
    if (a == absmax.end() || a->second.empty()) continue;
    const size_t k = a->second.size();
    std::vector<float> wmax(k, 0.f);
    bool ok = true;
    for (const std::string& name : grp.ops) {
      const Node* n = FindNode(graph, name);
      const int axis = n ? SmoothableWeightAxis(graph, *n) : -1;
      const Tensor* w = axis >= 0 ? InitializerOf(graph, n->inputs[1]) : nullptr;
      if (!w || (size_t)w->dim(axis) != k) {
        ok = false;
        break;
      }
      const bool transposed = axis == 1;
      const Tensor f = w->CastTo(DType::kFloat32);
      const float* p = f.data<float>();
      const int64_t rows = f.dim(0), cols = f.dim(1);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t col = 0; col < cols; ++col) {
          float& m = wmax[transposed ? col : r];
          m = std::max(m, std::fabs(p[r * cols + col]));
        }
    }
    if (!ok) continue;
    ActivationSmoothing s;
    s.tensor = grp.tensor;
    s.ops = grp.ops;
    s.scale.resize(k);
    for (size_t c = 0; c < k; ++c) {
      const double xa = a->second[c], wa = wmax[c];
      double v = (xa > 0 && wa > 0) ? std::pow(xa, alpha) / std::pow(wa, 1.0 - alpha) : 1.0;
      if (!std::isfinite(v)) v = 1.0;
      s.scale[c] = (float)std::clamp(v, 1e-5, 1e5);
    }
    out.push_back(std::move(s));
  }
  return out;
}

Status ApplySmoothing(Graph& graph, const QuantPlan& plan, std::vector<PassReport>* reports) {
  if (plan.smoothing.empty()) return Status::Ok();
  PassManager pm;
  pm.Add(std::make_unique<SmoothActivationsPass>(plan.smoothing));
  return pm.Run(graph, reports);
}

}  // namespace dopt
