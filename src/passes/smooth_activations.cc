#include "passes/smooth_activations.h"

#include <algorithm>
#include <cmath>

#include "ops/op.h"

namespace dopt {

int SmoothableWeightAxis(const Graph& g, const Node& n) {
  const OpDef* d = OpDefOf(n);
  if (!d || !d->quant.weighted() || !d->quant.weight_axis || d->quant.second_weight_input >= 0) return -1;
  if (n.inputs.size() < 2 || n.inputs[0] < 0 || n.inputs[1] < 0) return -1;
  const QuantTraits& t = d->quant;
  if (t.activation_input != 0 || t.weight_input != 1) return -1;
  auto trans_a = n.GetInt("transA", 0);  // Gemm: a transposed activation contracts its first axis
  if (!trans_a.ok() || *trans_a != 0) return -1;
  const Tensor* w = InitializerOf(g, n.inputs[1]);
  if (!w || !IsFloat(w->dtype()) || w->rank() != 2) return -1;
  auto out_axis = t.weight_axis(n, 1, 2);
  if (!out_axis.ok() || (*out_axis != 0 && *out_axis != 1)) return -1;
  return 1 - *out_axis;
}

namespace {

// Scales the 2-D float initializer input 1 of node `ni` by `s` along its input-channel axis
// (SmoothableWeightAxis): in place when only this node reads it, else into a copy.
Status ScaleWeight(Graph& g, int ni, const std::vector<float>& s, const std::vector<std::vector<int>>& consumers) {
  const int wid = g.nodes[ni].inputs[1];
  const Tensor* w = InitializerOf(g, wid);
  const std::string& op = g.nodes[ni].name;
  const int axis = SmoothableWeightAxis(g, g.nodes[ni]);
  if (axis < 0) return InvalidArgument("smoothing: op '" + op + "' has no weight that smoothing can scale");
  const bool transposed = axis == 1;
  const int64_t rows = w->dim(0), cols = w->dim(1), k = transposed ? cols : rows;
  if (k != (int64_t)s.size()) {
    return InvalidArgument("smoothing: op '" + op + "' has " + std::to_string(k) + " input channels, the factors " +
                           std::to_string(s.size()));
  }
  const DType dt = w->dtype();
  Tensor f = w->CastTo(DType::kFloat32);
  float* p = f.data<float>();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) p[r * cols + c] *= s[transposed ? c : r];
  if (CountUses(g, consumers, wid) == 1) {
    Value& v = g.value(wid);
    v.initializer = f.CastTo(dt);
    v.dirty = true;
    return Status::Ok();
  }
  const int nid = AddInitializer(g, g.value(wid).name + "_smoothed", f.CastTo(dt));
  g.nodes[ni].inputs[1] = nid;
  g.nodes[ni].dirty = true;  // writers regenerate it: it reads the copy now
  return Status::Ok();
}

// Divides a 1-D float initializer `id` of length s.size() by s, in place.
void DivideInPlace(Graph& g, int id, const std::vector<float>& s) {
  const Tensor* t = InitializerOf(g, id);
  const DType dt = t->dtype();
  Tensor f = t->CastTo(DType::kFloat32);
  for (size_t c = 0; c < s.size(); ++c) f.data<float>()[c] /= s[c];
  Value& v = g.value(id);
  v.initializer = f.CastTo(dt);
  v.dirty = true;
}

// Whether `id` is a 1-D float initializer of `k` elements read by one node only.
bool OwnVector(const Graph& g, int id, int64_t k, const std::vector<std::vector<int>>& consumers) {
  const Tensor* t = id >= 0 ? InitializerOf(g, id) : nullptr;
  return t && IsFloat(t->dtype()) && t->rank() == 1 && t->dim(0) == k && CountUses(g, consumers, id) == 1;
}

// Folds 1/s into the LayerNormalization producing `x` when that is exact and touches nothing
// else (see the header); false when it does not apply.
bool FoldIntoLayerNorm(Graph& g, int x, const std::vector<float>& s, size_t readers,
                       const std::vector<std::vector<int>>& consumers) {
  const int pi = g.value(x).producer;
  if (pi < 0 || CountUses(g, consumers, x) != (int)readers) return false;
  const Node& p = g.nodes[pi];
  if (p.op_type != "LayerNormalization" || p.outputs.empty() || p.outputs[0] != x) return false;
  const Value& xv = g.value(x);
  if (!xv.rank_known || xv.shape.empty()) return false;
  auto axis = p.GetInt("axis", -1);
  const int rank = (int)xv.shape.size();
  if (!axis.ok() || (*axis != -1 && *axis != rank - 1)) return false;
  const int64_t k = (int64_t)s.size();
  if (!OwnVector(g, p.inputs[1], k, consumers)) return false;
  const bool has_b = p.inputs.size() > 2 && p.inputs[2] >= 0;
  if (has_b && !OwnVector(g, p.inputs[2], k, consumers)) return false;
  const int scale_id = p.inputs[1], b_id = has_b ? p.inputs[2] : -1;
  if (scale_id == b_id) return false;  // one initializer as Scale and B: dividing it twice
  DivideInPlace(g, scale_id, s);
  if (b_id >= 0) DivideInPlace(g, b_id, s);
  g.nodes[pi].dirty = true;
  return true;
}

}  // namespace

StatusOr<int> SmoothActivationsPass::Run(Graph& g) {
  folded_ = 0;
  int done = 0;
  for (const ActivationSmoothing& sm : smoothing_) {
    const int x = g.FindValue(sm.tensor);
    if (x < 0) return InvalidArgument("smoothing: no tensor '" + sm.tensor + "' in the graph");
    if (sm.scale.empty() || sm.ops.empty()) return InvalidArgument("smoothing of '" + sm.tensor + "': no factors or ops");
    for (float v : sm.scale)
      if (!(v > 0) || !std::isfinite(v)) return InvalidArgument("smoothing of '" + sm.tensor + "': a factor is not positive and finite");
    const Value& xv = g.value(x);
    // An unknown (symbolic) last dim is checked against the weights below.
    if (!xv.rank_known || xv.shape.empty() || (xv.shape.back() >= 0 && xv.shape.back() != (int64_t)sm.scale.size())) {
      return InvalidArgument("smoothing of '" + sm.tensor + "': its last dim is not " + std::to_string(sm.scale.size()));
    }
    if (xv.dtype != DType::kFloat32) return InvalidArgument("smoothing of '" + sm.tensor + "': the activation is not float32");
    std::vector<int> readers;
    for (const std::string& name : sm.ops) {
      const int ni = FindNodeIndex(g, name);
      if (ni < 0) return InvalidArgument("smoothing of '" + sm.tensor + "': no op '" + name + "' in the graph");
      const Node& n = g.nodes[ni];
      if (n.inputs.empty() || n.inputs[0] != x || SmoothableWeightAxis(g, n) < 0) {
        return InvalidArgument("smoothing of '" + sm.tensor + "': op '" + name + "' is not a MatMul/Gemm reading it");
      }
      if (std::find(n.inputs.begin() + 1, n.inputs.end(), x) != n.inputs.end()) {
        return InvalidArgument("smoothing of '" + sm.tensor + "': op '" + name + "' reads it as another input too");
      }
      readers.push_back(ni);
    }
    auto consumers = g.Consumers();
    for (int ni : readers) {
      DOPT_RETURN_IF_ERROR(ScaleWeight(g, ni, sm.scale, consumers));
      consumers = g.Consumers();
    }
    ++done;
    if (FoldIntoLayerNorm(g, x, sm.scale, readers.size(), consumers)) {
      ++folded_;
      continue;
    }
    std::vector<float> inv(sm.scale.size());
    for (size_t c = 0; c < inv.size(); ++c) inv[c] = 1.f / sm.scale[c];
    const int k = AddInitializer(g, sm.tensor + "_smooth_inv", Tensor::FromFloats({(int64_t)inv.size()}, inv));
    const int y = AddValueLike(g, sm.tensor + "_smoothed", g.value(x), DType::kFloat32);
    for (int ni : readers) {
      g.nodes[ni].inputs[0] = y;
      g.nodes[ni].dirty = true;
    }
    AddUniqueNode(g, MakeNode("Mul", sm.tensor + "/smooth", {x, k}, {y}, {}, std::max(DefaultOpset(g), 7)));
  }
  return done;
}

}  // namespace dopt
