#include "quant/smooth_quant.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "ir/graph_edit.h"

namespace dopt {

namespace {

// The constant 2-D float weight of `n` and whether its input channels run along axis 1
// (Gemm with transB); nullptr when `n` cannot be smoothed.
const Tensor* SmoothableWeight(const Graph& g, const Node& n, const QuantCandidate& c, bool* transposed) {
  if (c.activation_pair || c.weight2_input >= 0 || c.activation_input != 0 || c.weight_input != 1) return nullptr;
  if (n.op_type != "MatMul" && n.op_type != "Gemm") return nullptr;
  *transposed = false;
  if (n.op_type == "Gemm") {
    auto ta = n.GetInt("transA", 0), tb = n.GetInt("transB", 0);
    if (!ta.ok() || !tb.ok() || *ta != 0) return nullptr;
    *transposed = *tb != 0;
  }
  if (n.inputs.size() < 2 || n.inputs[0] < 0 || n.inputs[1] < 0) return nullptr;
  const Tensor* w = InitializerOf(g, n.inputs[1]);
  if (!w || !IsFloat(w->dtype()) || w->rank() != 2) return nullptr;
  const Value& x = g.value(n.inputs[0]);
  if (x.dtype != DType::kFloat32 || !x.rank_known || x.shape.empty()) return nullptr;
  if (x.shape.back() != (*transposed ? w->dim(1) : w->dim(0))) return nullptr;
  return w;
}

}  // namespace

std::vector<SmoothingGroup> SmoothingGroups(const Graph& graph, const QuantSelection& sel) {
  std::vector<SmoothingGroup> groups;
  for (const QuantCandidate& c : sel.ops) {
    const Node* n = FindNode(graph, c.node);
    bool transposed = false;
    if (!n || !SmoothableWeight(graph, *n, c, &transposed)) continue;
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
      const Tensor* w = n ? InitializerOf(graph, n->inputs[1]) : nullptr;
      bool transposed = false;
      if (n && n->op_type == "Gemm") {
        auto tb = n->GetInt("transB", 0);
        transposed = tb.ok() && *tb != 0;
      }
      if (!w || (size_t)(transposed ? w->dim(1) : w->dim(0)) != k) {
        ok = false;
        break;
      }
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
