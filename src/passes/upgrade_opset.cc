// Default-domain opset upgrade. One rule per op of src/ops/ops.inc: the versions (7..21) at
// which its signature or meaning changed, each with a rewrite that keeps the results exact.
// Sources: ONNX's Changelog.md / Operators.md and the adapters of ONNX's version converter.
#include "passes/upgrade_opset.h"

#include <algorithm>
#include <cfloat>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "ops/shape_inference.h"

namespace dopt {
namespace {

// The rewrite for one node, from opset `from` to `to` (from < to). `ni` indexes graph.nodes;
// rules may add nodes and values, so they re-fetch references after doing so.
using RewriteFn = Status (*)(Graph& g, int ni, int from, int to);

// from < v <= to: the node crosses version v of its op.
bool Crosses(int from, int to, int v) { return from < v && to >= v; }

void RemoveAttr(Node& n, const std::string& name) {
  auto& a = n.attributes;
  a.erase(std::remove_if(a.begin(), a.end(), [&](const auto& kv) { return kv.first == name; }), a.end());
}

void SetAttr(Node& n, const std::string& name, Attribute attr) {
  for (auto& kv : n.attributes) {
    if (kv.first == name) {
      kv.second = std::move(attr);
      return;
    }
  }
  n.attributes.emplace_back(name, std::move(attr));
}

void SetStringAttr(Node& n, const std::string& name, const std::string& s) {
  Attribute a;
  a.kind = Attribute::Kind::kString;
  a.s = s;
  SetAttr(n, name, std::move(a));
}

void SetIntAttr(Node& n, const std::string& name, int64_t i) {
  Attribute a;
  a.kind = Attribute::Kind::kInt;
  a.i = i;
  SetAttr(n, name, std::move(a));
}

std::string UniqueNodeName(const Graph& g, const std::string& base) {
  auto taken = [&](const std::string& s) {
    for (const Node& n : g.nodes)
      if (n.name == s) return true;
    return false;
  };
  if (!taken(base)) return base;
  for (int k = 1;; ++k) {
    std::string s = base + "_" + std::to_string(k);
    if (!taken(s)) return s;
  }
}

std::string UniqueName(const Graph& g, const std::string& base) {
  if (g.FindValue(base) < 0) return base;
  for (int k = 1;; ++k) {
    std::string s = base + "_" + std::to_string(k);
    if (g.FindValue(s) < 0) return s;
  }
}

// A new initializer named after `base`.
int AddConstant(Graph& g, const std::string& base, Tensor t) {
  Value v;
  v.name = UniqueName(g, base);
  v.dtype = t.dtype();
  v.rank_known = true;
  v.shape = t.shape();
  v.initializer = std::move(t);
  v.source_index = -1;
  v.dirty = true;
  return g.AddValue(std::move(v));
}

// A new intermediate value named after `base`.
int AddIntermediate(Graph& g, const std::string& base) {
  Value v;
  v.name = UniqueName(g, base);
  v.source_index = -1;
  v.dirty = true;
  return g.AddValue(std::move(v));
}

int AddInt64s(Graph& g, const std::string& base, const std::vector<int64_t>& vals) {
  return AddConstant(g, base, Tensor::FromInt64s({(int64_t)vals.size()}, vals));
}

// A rank-0 constant of `dtype` (a float type) holding `v`.
StatusOr<int> AddFloatScalar(Graph& g, const Node& n, const std::string& base, float v, DType dtype) {
  if (!IsFloat(dtype)) {
    return InvalidArgument(n.Describe() + ": cannot upgrade: input '" + g.value(n.inputs[0]).name + "' has " +
                           (dtype == DType::kUndefined ? std::string("an unknown element type")
                                                       : std::string("element type ") + DTypeName(dtype)) +
                           ", a float type is needed to turn attributes into inputs");
  }
  Tensor t = Tensor::Scalar(v);
  if (dtype != DType::kFloat32) t = t.CastTo(dtype);
  return AddConstant(g, base, std::move(t));
}

void SetInput(Node& n, size_t i, int id) {
  if (n.inputs.size() <= i) n.inputs.resize(i + 1, -1);
  n.inputs[i] = id;
}

// Drops trailing omitted inputs/outputs (ONNX allows them, but they add nothing).
void TrimTrailing(std::vector<int>& v) {
  while (!v.empty() && v.back() < 0) v.pop_back();
}

bool ValueUsed(const Graph& g, int vid) {
  if (std::find(g.outputs.begin(), g.outputs.end(), vid) != g.outputs.end()) return true;
  for (const Node& n : g.nodes)
    if (std::find(n.inputs.begin(), n.inputs.end(), vid) != n.inputs.end()) return true;
  return false;
}

Status NeedInputs(const Node& n, size_t count) {
  if (n.inputs.size() < count || n.inputs[0] < 0)
    return InvalidArgument(n.Describe() + ": cannot upgrade: expected " + std::to_string(count) + " input(s), has " +
                           std::to_string(n.inputs.size()));
  return Status::Ok();
}

// ---- the rewrites ----

// Softmax < 13 coerces the input to 2-D at `axis` (default 1) and normalises each row;
// 13 normalises along `axis` (default -1). Same thing when axis is the last one; otherwise
// Flatten(axis) -> Softmax(axis=1) -> Reshape(to Shape(x)) is exact.
Status UpgradeSoftmax(Graph& g, int ni, int from, int to) {
  if (!Crosses(from, to, 13)) return Status::Ok();
  Node& n = g.nodes[ni];
  DOPT_RETURN_IF_ERROR(NeedInputs(n, 1));
  DOPT_ASSIGN_OR_RETURN(int64_t axis, n.GetInt("axis", 1));
  n.dirty = true;
  const Value& x = g.value(n.inputs[0]);
  if (x.rank_known) {
    int64_t r = (int64_t)x.shape.size();
    if (axis < -r || axis >= std::max<int64_t>(r, 1))
      return InvalidArgument(n.Describe() + ": axis " + std::to_string(axis) + " is out of range for rank " +
                             std::to_string(r));
    int64_t a = axis < 0 ? axis + r : axis;
    // Dims after `axis` all 1 (e.g. N,C,1,1 at axis 1): the flattened rows are that axis.
    bool trailing_ones = true;
    for (int64_t d = a + 1; d < r; ++d) trailing_ones = trailing_ones && x.shape[d] == 1;
    if (trailing_ones || r == 0) {
      SetIntAttr(n, "axis", axis);  // explicit: the default changed from 1 to -1
      return Status::Ok();
    }
  }
  // General case (or unknown rank).
  const std::string base = n.name;
  int x_id = n.inputs[0];
  int y_id = n.outputs[0];
  int flat = AddIntermediate(g, base + "_flat");
  int soft = AddIntermediate(g, base + "_2d");
  int shape = AddIntermediate(g, base + "_shape");
  {
    Node& sm = g.nodes[ni];
    sm.inputs[0] = flat;
    sm.outputs[0] = soft;
    SetIntAttr(sm, "axis", 1);
  }
  auto make = [&](const std::string& name, const std::string& type, std::vector<int> ins, int out) {
    Node m;
    m.name = UniqueNodeName(g, name);
    m.op_type = type;
    m.opset_version = to;
    m.inputs = std::move(ins);
    m.outputs = {out};
    m.dirty = true;
    return m;
  };
  Node fl = make(base + "_flatten", "Flatten", {x_id}, flat);
  SetIntAttr(fl, "axis", axis);
  g.AddNode(std::move(fl));
  g.AddNode(make(base + "_input_shape", "Shape", {x_id}, shape));
  g.AddNode(make(base + "_reshape", "Reshape", {soft, shape}, y_id));
  g.values[soft].producer = ni;  // AddNode set the producer of y to the Reshape
  return Status::Ok();
}

// Squeeze/Unsqueeze 13: axes attribute -> optional/required int64 input.
Status UpgradeAxesToInput(Graph& g, int ni, int from, int to) {
  if (!Crosses(from, to, 13)) return Status::Ok();
  Node& n = g.nodes[ni];
  DOPT_RETURN_IF_ERROR(NeedInputs(n, 1));
  if (!n.HasAttr("axes")) {
    if (n.op_type == "Unsqueeze") return InvalidArgument(n.Describe() + ": cannot upgrade: no 'axes' attribute");
    return Status::Ok();  // squeeze every 1-dim: unchanged
  }
  n.dirty = true;
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> axes, n.GetInts("axes"));
  std::string base = n.name + "_axes";
  int id = AddInt64s(g, base, axes);
  Node& m = g.nodes[ni];
  RemoveAttr(m, "axes");
  m.inputs.resize(1);
  SetInput(m, 1, id);
  return Status::Ok();
}

// Split 13: split attribute -> optional int64 input. Split 18: with no split input, the
// num_outputs attribute is required (equal parts; ONNX's Split_17_18 adapter sets it to the
// number of outputs). Parts are then the same as before: older versions required an even split.
Status UpgradeSplit(Graph& g, int ni, int from, int to) {
  Node& n = g.nodes[ni];
  DOPT_RETURN_IF_ERROR(NeedInputs(n, 1));
  if (Crosses(from, to, 13) && n.HasAttr("split")) {
    n.dirty = true;
    DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> split, n.GetInts("split"));
    int id = AddInt64s(g, n.name + "_split", split);
    Node& m = g.nodes[ni];
    RemoveAttr(m, "split");
    m.inputs.resize(1);
    SetInput(m, 1, id);
  }
  Node& m = g.nodes[ni];
  if (Crosses(from, to, 18) && (m.inputs.size() < 2 || m.inputs[1] < 0) && !m.HasAttr("num_outputs")) {
    TrimTrailing(m.inputs);
    SetIntAttr(m, "num_outputs", (int64_t)m.outputs.size());
    m.dirty = true;
  }
  return Status::Ok();
}

// ReduceMean 18: axes attribute -> optional int64 input (none: every axis, as before, since
// noop_with_empty_axes defaults to 0).
Status UpgradeReduceMean(Graph& g, int ni, int from, int to) {
  if (!Crosses(from, to, 18)) return Status::Ok();
  Node& n = g.nodes[ni];
  DOPT_RETURN_IF_ERROR(NeedInputs(n, 1));
  if (!n.HasAttr("axes")) return Status::Ok();
  n.dirty = true;
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> axes, n.GetInts("axes"));
  Node& m0 = g.nodes[ni];
  if (axes.empty()) {  // an empty list: every axis, like no attribute
    RemoveAttr(m0, "axes");
    return Status::Ok();
  }
  int id = AddInt64s(g, m0.name + "_axes", axes);
  Node& m = g.nodes[ni];
  RemoveAttr(m, "axes");
  m.inputs.resize(1);
  SetInput(m, 1, id);
  return Status::Ok();
}

// Clip 11: min/max attributes (defaults: the float range) -> optional scalar inputs.
Status UpgradeClip(Graph& g, int ni, int from, int to) {
  if (!Crosses(from, to, 11)) return Status::Ok();
  Node& n = g.nodes[ni];
  DOPT_RETURN_IF_ERROR(NeedInputs(n, 1));
  bool has_min = n.HasAttr("min"), has_max = n.HasAttr("max");
  if (!has_min && !has_max) return Status::Ok();
  n.dirty = true;
  DOPT_ASSIGN_OR_RETURN(float lo, n.GetFloat("min", -FLT_MAX));
  DOPT_ASSIGN_OR_RETURN(float hi, n.GetFloat("max", FLT_MAX));
  DType dt = g.value(n.inputs[0]).dtype;
  std::string name = n.name;
  int lo_id = -1, hi_id = -1;
  if (has_min) {
    DOPT_ASSIGN_OR_RETURN(lo_id, AddFloatScalar(g, g.nodes[ni], name + "_min", lo, dt));
  }
  if (has_max) {
    DOPT_ASSIGN_OR_RETURN(hi_id, AddFloatScalar(g, g.nodes[ni], name + "_max", hi, dt));
  }
  Node& m = g.nodes[ni];
  RemoveAttr(m, "min");
  RemoveAttr(m, "max");
  m.inputs.resize(1);
  SetInput(m, 1, lo_id);
  SetInput(m, 2, hi_id);
  TrimTrailing(m.inputs);
  return Status::Ok();
}

// Pad 11: pads/value attributes -> pads (int64) and optional constant_value inputs.
Status UpgradePad(Graph& g, int ni, int from, int to) {
  if (!Crosses(from, to, 11)) return Status::Ok();
  Node& n = g.nodes[ni];
  DOPT_RETURN_IF_ERROR(NeedInputs(n, 1));
  n.dirty = true;
  if (!n.HasAttr("pads")) return InvalidArgument(n.Describe() + ": cannot upgrade: no 'pads' attribute");
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> pads, n.GetInts("pads"));
  DOPT_ASSIGN_OR_RETURN(std::string mode, n.GetString("mode", "constant"));
  bool has_value = n.HasAttr("value");
  DOPT_ASSIGN_OR_RETURN(float value, n.GetFloat("value", 0.f));
  DType dt = g.value(n.inputs[0]).dtype;
  std::string name = n.name;
  int pads_id = AddInt64s(g, name + "_pads", pads);
  int value_id = -1;
  if (has_value && mode == "constant") {
    DOPT_ASSIGN_OR_RETURN(value_id, AddFloatScalar(g, g.nodes[ni], name + "_value", value, dt));
  }
  Node& m = g.nodes[ni];
  RemoveAttr(m, "pads");
  RemoveAttr(m, "value");
  m.inputs.resize(1);
  SetInput(m, 1, pads_id);
  SetInput(m, 2, value_id);
  TrimTrailing(m.inputs);
  return Status::Ok();
}

// Slice 10: starts/ends/axes attributes -> int64 inputs (steps stay omitted: all 1).
Status UpgradeSlice(Graph& g, int ni, int from, int to) {
  if (!Crosses(from, to, 10)) return Status::Ok();
  Node& n = g.nodes[ni];
  DOPT_RETURN_IF_ERROR(NeedInputs(n, 1));
  n.dirty = true;
  if (!n.HasAttr("starts") || !n.HasAttr("ends"))
    return InvalidArgument(n.Describe() + ": cannot upgrade: 'starts' and 'ends' attributes are required");
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> starts, n.GetInts("starts"));
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> ends, n.GetInts("ends"));
  bool has_axes = n.HasAttr("axes");
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> axes, n.GetInts("axes"));
  std::string name = n.name;
  int s = AddInt64s(g, name + "_starts", starts);
  int e = AddInt64s(g, name + "_ends", ends);
  int a = has_axes ? AddInt64s(g, name + "_axes", axes) : -1;
  Node& m = g.nodes[ni];
  RemoveAttr(m, "starts");
  RemoveAttr(m, "ends");
  RemoveAttr(m, "axes");
  m.inputs.resize(1);
  SetInput(m, 1, s);
  SetInput(m, 2, e);
  SetInput(m, 3, a);
  TrimTrailing(m.inputs);
  return Status::Ok();
}

// Dropout 10: the mask output becomes bool (was T); 12: ratio attribute -> optional input,
// training_mode input (default false: inference, what older versions did in inference too).
Status UpgradeDropout(Graph& g, int ni, int from, int to) {
  Node& n = g.nodes[ni];
  DOPT_RETURN_IF_ERROR(NeedInputs(n, 1));
  if (n.HasAttr("is_test")) {
    DOPT_ASSIGN_OR_RETURN(int64_t is_test, n.GetInt("is_test", 1));
    if (is_test == 0) return InvalidArgument(n.Describe() + ": cannot upgrade: is_test=0 (training mode)");
    RemoveAttr(n, "is_test");
    n.dirty = true;
  }
  if (Crosses(from, to, 10) && n.outputs.size() > 1 && n.outputs[1] >= 0) {
    if (ValueUsed(g, n.outputs[1]))
      return InvalidArgument(n.Describe() + ": cannot upgrade: its mask output '" + g.value(n.outputs[1]).name +
                             "' is used, and its type changes to bool at opset 10");
    g.values[n.outputs[1]].producer = -1;
    n.outputs.resize(1);
    n.dirty = true;
  }
  if (Crosses(from, to, 12) && n.HasAttr("ratio")) {
    DOPT_ASSIGN_OR_RETURN(float ratio, n.GetFloat("ratio", 0.5f));
    int id = AddConstant(g, n.name + "_ratio", Tensor::Scalar(ratio));
    Node& m = g.nodes[ni];
    RemoveAttr(m, "ratio");
    m.inputs.resize(1);
    SetInput(m, 1, id);
    m.dirty = true;
  }
  return Status::Ok();
}

// Resize 11: inputs (X, scales) -> (X, roi, scales), coordinate_transformation_mode =
// asymmetric. Resize-10's nearest rounds x / scale down when upsampling and up when
// downsampling (ONNX's test_resize_downsample_nearest, and ONNX Runtime); nearest_mode
// applies to every axis, so scales mixing both become two Resizes (nearest is separable).
// ONNX's version converter sets floor throughout, which is wrong for downsampling.
// `upsample_only`: the node was an Upsample, whose scales are all >= 1.
Status ResizeTo11(Graph& g, int ni, int to, bool upsample_only) {
  Node& n = g.nodes[ni];
  DOPT_RETURN_IF_ERROR(NeedInputs(n, 2));
  if (n.inputs.size() != 2 || n.inputs[1] < 0)
    return InvalidArgument(n.Describe() + ": cannot upgrade: Resize-10 takes exactly 2 inputs (X, scales)");
  DOPT_ASSIGN_OR_RETURN(std::string mode, n.GetString("mode", "nearest"));
  if (mode != "nearest" && mode != "linear")
    return InvalidArgument(n.Describe() + ": cannot upgrade: unknown mode '" + mode + "'");
  n.dirty = true;
  std::vector<float> down, up;  // nearest: scales split into the < 1 and the >= 1 parts
  if (mode == "nearest" && !upsample_only) {
    const Tensor* sc = g.value(n.inputs[1]).ConstantValue();
    if (!sc || ComputeDType(sc->dtype()) != DType::kFloat32)
      return InvalidArgument(n.Describe() + ": cannot upgrade: nearest Resize-10 needs constant float scales (its "
                             "rounding depends on whether each scale is below 1)");
    Tensor f = ToComputeDType(*sc);
    for (int64_t i = 0; i < f.numel(); ++i) {
      float v = f.data<float>()[i];
      down.push_back(v < 1.f ? v : 1.f);
      up.push_back(v < 1.f ? 1.f : v);
    }
  }
  bool has_down = std::any_of(down.begin(), down.end(), [](float v) { return v != 1.f; });
  bool has_up = std::any_of(up.begin(), up.end(), [](float v) { return v != 1.f; });
  auto roi = [&]() { return to < 13 ? AddConstant(g, g.nodes[ni].name + "_roi", Tensor(DType::kFloat32, {0})) : -1; };
  auto set_attrs = [&](Node& m, const char* nearest_mode) {
    SetStringAttr(m, "mode", mode);
    SetStringAttr(m, "coordinate_transformation_mode", "asymmetric");
    if (mode == "nearest") SetStringAttr(m, "nearest_mode", nearest_mode);
  };
  if (has_down && has_up) {
    // X -> Resize(down scales, ceil) -> mid -> Resize(up scales, floor) -> Y.
    std::string name = g.nodes[ni].name;
    int r1 = roi();
    int s_down = AddConstant(g, name + "_scales_down", Tensor::FromFloats({(int64_t)down.size()}, down));
    int r2 = roi();
    int s_up = AddConstant(g, name + "_scales_up", Tensor::FromFloats({(int64_t)up.size()}, up));
    int mid = AddIntermediate(g, name + "_down");
    Node second;
    second.name = UniqueNodeName(g, name + "_up");
    second.op_type = "Resize";
    second.opset_version = to;
    second.inputs = {mid, r2, s_up};
    second.outputs = {g.nodes[ni].outputs[0]};
    second.dirty = true;
    set_attrs(second, "floor");
    Node& m = g.nodes[ni];
    m.inputs = {m.inputs[0], r1, s_down};
    m.outputs[0] = mid;
    set_attrs(m, "ceil");
    g.AddNode(std::move(second));
    return Status::Ok();
  }
  int r = roi();
  Node& m = g.nodes[ni];
  m.inputs = {m.inputs[0], r, m.inputs[1]};
  set_attrs(m, has_down ? "ceil" : "floor");
  return Status::Ok();
}

Status UpgradeResize(Graph& g, int ni, int from, int to) {
  if (!Crosses(from, to, 11)) return Status::Ok();
  return ResizeTo11(g, ni, to, false);
}

// Upsample is deprecated at 10: it becomes Resize-10 (same inputs, same sampling), then
// Resize's own rule. Upsample < 9 holds its scales in an attribute.
Status UpgradeUpsample(Graph& g, int ni, int from, int to) {
  if (!Crosses(from, to, 10)) return Status::Ok();
  Node& n = g.nodes[ni];
  DOPT_RETURN_IF_ERROR(NeedInputs(n, 1));
  DOPT_ASSIGN_OR_RETURN(std::string mode, n.GetString("mode", "nearest"));
  if (mode == "bilinear") mode = "linear";
  if (mode != "nearest" && mode != "linear")
    return InvalidArgument(n.Describe() + ": cannot upgrade: unknown mode '" + mode + "'");
  n.dirty = true;
  if (from < 9) {
    if (!n.HasAttr("scales")) return InvalidArgument(n.Describe() + ": cannot upgrade: no 'scales' attribute");
    DOPT_ASSIGN_OR_RETURN(std::vector<float> scales, n.GetFloats("scales"));
    int id = AddConstant(g, n.name + "_scales", Tensor::FromFloats({(int64_t)scales.size()}, scales));
    Node& m = g.nodes[ni];
    RemoveAttr(m, "scales");
    m.inputs.resize(1);
    SetInput(m, 1, id);
  } else if (n.inputs.size() != 2 || n.inputs[1] < 0) {
    return InvalidArgument(n.Describe() + ": cannot upgrade: expected inputs (X, scales)");
  }
  Node& m = g.nodes[ni];
  m.op_type = "Resize";
  m.op = nullptr;
  SetStringAttr(m, "mode", mode);
  if (to < 11) return Status::Ok();
  return ResizeTo11(g, ni, to, true);
}

// BatchNormalization: attributes of opsets < 7 dropped (consumed_inputs; is_test must be
// inference); 9 removes `spatial` (only per-channel statistics remain); 14 allows only the
// Y output in inference, so unused training outputs are dropped.
Status UpgradeBatchNorm(Graph& g, int ni, int from, int to) {
  Node& n = g.nodes[ni];
  DOPT_RETURN_IF_ERROR(NeedInputs(n, 5));
  if (n.HasAttr("consumed_inputs")) {
    RemoveAttr(n, "consumed_inputs");
    n.dirty = true;
  }
  if (n.HasAttr("is_test")) {
    DOPT_ASSIGN_OR_RETURN(int64_t is_test, n.GetInt("is_test", 0));
    if (is_test == 0 && n.outputs.size() > 1)
      return InvalidArgument(n.Describe() + ": cannot upgrade: is_test=0 with training outputs");
    RemoveAttr(n, "is_test");
    n.dirty = true;
  }
  if (Crosses(from, to, 9) && n.HasAttr("spatial")) {
    DOPT_ASSIGN_OR_RETURN(int64_t spatial, n.GetInt("spatial", 1));
    if (spatial == 0) {
      for (int i = 1; i < 5; ++i) {
        const Value& p = g.value(n.inputs[i]);
        if (!p.rank_known || p.shape.size() != 1)
          return InvalidArgument(n.Describe() + ": cannot upgrade: spatial=0 with per-activation input '" + p.name +
                                 "' (shape " + (p.rank_known ? ShapeToString(p.shape) : std::string("unknown")) +
                                 "); opset 9 keeps only per-channel statistics");
      }
    }
    RemoveAttr(n, "spatial");
    n.dirty = true;
  }
  if (Crosses(from, to, 14) && n.outputs.size() > 1) {
    for (size_t i = 1; i < n.outputs.size(); ++i) {
      if (n.outputs[i] >= 0 && ValueUsed(g, n.outputs[i]))
        return InvalidArgument(n.Describe() + ": cannot upgrade: training output '" + g.value(n.outputs[i]).name +
                               "' is used; opset 14 has it only in training mode");
    }
    for (size_t i = 1; i < n.outputs.size(); ++i)
      if (n.outputs[i] >= 0) g.values[n.outputs[i]].producer = -1;
    n.outputs.resize(1);
    n.dirty = true;
  }
  return Status::Ok();
}

struct Rule {
  const char* op;
  RewriteFn fn;  // nullptr: nothing to rewrite from 7 to kUpgradeMaxOpset (only types added)
};

// Every op of src/ops/ops.inc. Ops without a rewrite, checked against the changelog:
// Add/Sub/Mul/Div/Pow/Max/Min/Neg/Exp/Sqrt/Erf/Relu/Sigmoid/Tanh/LeakyRelu/PRelu/Identity/
// Cast/MatMul (types only; broadcasting was numpy-style from 7/8 on), AveragePool/MaxPool/
// Conv/ConvTranspose/GlobalAveragePool (attributes added with old defaults), Concat/Flatten/
// Gather/Transpose (negative axes added), Gemm (C optional at 11), Reshape (allowzero=0 by
// default at 14), Shape (start/end at 15), Constant/ConstantOfShape/HardSigmoid/HardSwish,
// QuantizeLinear/DequantizeLinear (axis at 13 only matters for the 1-D scales that 10 did not
// allow). 18..21, as ONNX's version converter (compatible adapters): Pad 18 (optional axes
// input), 19 (wrap mode), 21 (types); Resize 18 (antialias, axes, keep_aspect_ratio_policy),
// 19 (half_pixel_symmetric); AveragePool 19 (dilations); Cast 19 (saturate), 21;
// QuantizeLinear/DequantizeLinear 19 (saturate, float8), 21 (block_size, output_dtype, int16/
// int4); Constant/Identity/Reshape/Shape 19, 21; ConstantOfShape 20, 21; Flatten/Squeeze/
// Unsqueeze/Transpose 21: new types or optional attributes with the old defaults. Rewritten at
// 18: ReduceMean (axes input) and Split (num_outputs).
const Rule kRules[] = {
    {"Add", nullptr},
    {"AveragePool", nullptr},
    {"BatchNormalization", UpgradeBatchNorm},
    {"Cast", nullptr},
    {"Clip", UpgradeClip},
    {"Concat", nullptr},
    {"Constant", nullptr},
    {"ConstantOfShape", nullptr},
    {"Conv", nullptr},
    {"ConvTranspose", nullptr},
    {"DequantizeLinear", nullptr},
    {"Div", nullptr},
    {"Dropout", UpgradeDropout},
    {"Erf", nullptr},
    {"Exp", nullptr},
    {"Flatten", nullptr},
    {"Gather", nullptr},
    {"Gemm", nullptr},
    {"GlobalAveragePool", nullptr},
    {"HardSigmoid", nullptr},
    {"HardSwish", nullptr},
    {"Identity", nullptr},
    {"LeakyRelu", nullptr},
    {"MatMul", nullptr},
    {"Max", nullptr},
    {"MaxPool", nullptr},
    {"Min", nullptr},
    {"Mul", nullptr},
    {"Neg", nullptr},
    {"Pad", UpgradePad},
    {"Pow", nullptr},
    {"PRelu", nullptr},
    {"QuantizeLinear", nullptr},
    {"ReduceMean", UpgradeReduceMean},
    {"Relu", nullptr},
    {"Reshape", nullptr},
    {"Resize", UpgradeResize},
    {"Shape", nullptr},
    {"Sigmoid", nullptr},
    {"Slice", UpgradeSlice},
    {"Softmax", UpgradeSoftmax},
    {"Split", UpgradeSplit},
    {"Sqrt", nullptr},
    {"Squeeze", UpgradeAxesToInput},
    {"Sub", nullptr},
    {"Tanh", nullptr},
    {"Transpose", nullptr},
    {"Unsqueeze", UpgradeAxesToInput},
    {"Upsample", UpgradeUpsample},
};

const Rule* FindRule(const std::string& op) {
  for (const Rule& r : kRules)
    if (op == r.op) return &r;
  return nullptr;
}

// The IR version each opset was released with (ONNX's versioning table).
int64_t IrVersionFor(int opset) {
  if (opset <= 8) return 3;
  if (opset == 9) return 4;
  if (opset == 10) return 5;
  if (opset == 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

}  // namespace

Status UpgradeOpset(Graph& graph, int target) {
  if (target < kUpgradeMinOpset || target > kUpgradeMaxOpset)
    return InvalidArgument("cannot upgrade to opset " + std::to_string(target) + ": supported targets are " +
                           std::to_string(kUpgradeMinOpset) + " to " + std::to_string(kUpgradeMaxOpset));
  // Check every node first, so an unsupported one leaves the graph untouched.
  std::vector<int> todo;
  for (int i = 0; i < (int)graph.nodes.size(); ++i) {
    const Node& n = graph.nodes[i];
    if (!n.domain.empty() && n.domain != "ai.onnx") continue;
    if (n.opset_version > target)
      return InvalidArgument(n.Describe() + ": is at opset " + std::to_string(n.opset_version) +
                             ", newer than the target " + std::to_string(target) + " (dopt does not downgrade)");
    if (n.opset_version < kUpgradeMinOpset)
      return Unimplemented(n.Describe() + ": opset " + std::to_string(n.opset_version) + " is older than " +
                           std::to_string(kUpgradeMinOpset) + ", the oldest dopt upgrades");
    if (!FindRule(n.op_type))
      return Unimplemented(n.Describe() + ": no opset upgrade rule for op " + n.op_type);
    todo.push_back(i);
  }
  for (int i : todo) {
    int from = graph.nodes[i].opset_version;
    if (from == target) continue;
    const Rule* r = FindRule(graph.nodes[i].op_type);
    if (r->fn) {
      Status st = r->fn(graph, i, from, target);
      if (!st.ok()) return st.WithContext("upgrading to opset " + std::to_string(target));
    }
    graph.nodes[i].opset_version = target;
  }
  bool found = false;
  for (auto& o : graph.info.opsets) {
    if (o.first.empty() || o.first == "ai.onnx") {
      o.second = target;
      found = true;
    }
  }
  if (!found) graph.info.opsets.emplace_back("", target);
  graph.info.ir_version = std::max(graph.info.ir_version, IrVersionFor(target));
  Status st = PrepareGraph(graph);
  if (!st.ok()) return st.WithContext("after upgrading to opset " + std::to_string(target));
  return Status::Ok();
}

}  // namespace dopt
