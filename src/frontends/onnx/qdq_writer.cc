#include "frontends/onnx/qdq_writer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <unordered_set>

#include "frontends/onnx/onnx_frontend.h"
#include "ir/graph_edit.h"
#include "ops/op.h"
#include "ops/shape_inference.h"
#include "passes/upgrade_opset.h"

namespace dopt {

namespace {

// ONNX TensorProto element types used by Cast's `to`.
constexpr int64_t kOnnxFloat = 1;
constexpr int64_t kOnnxFloat16 = 10;
constexpr int64_t kOnnxBFloat16 = 16;

// The opset new Q/DQ nodes are written at: the model's, or 13 when it names none.
int QdqOpset(const Graph& g) {
  int v = DefaultOpset(g);
  return v > 0 ? v : 13;
}

std::string FloatsKey(const TensorQuant& q) {
  std::string k = std::to_string(q.bits) + "|" + std::to_string(q.axis);
  for (float s : q.scales) k += "|" + std::to_string(s);
  for (int32_t z : q.zero_points) k += "|z" + std::to_string(z);
  return k;
}

class QdqBuilder {
 public:
  QdqBuilder(Graph& g, const QdqOptions& opt) : g_(g), opt_(opt), opset_(QdqOpset(g)), namer_(g) {}

  Status Apply(const QuantPlan& plan) {
    std::map<std::string, int> node_by_name;
    for (int i = 0; i < (int)g_.nodes.size(); ++i) node_by_name.emplace(g_.nodes[i].name, i);
    const size_t original_nodes = g_.nodes.size();
    for (const QuantizedOp& op : plan.ops) {
      auto it = node_by_name.find(op.node);
      if (it == node_by_name.end()) {
        return InvalidArgument("the quantization plan names node '" + op.node +
                               "', which is not in the graph (was the model prepared with the same passes, "
                               "PrepareForQuantization?)");
      }
      if (it->second >= (int)original_nodes) return Internal("node index out of range");
      DOPT_RETURN_IF_ERROR(QuantizeOp(it->second, op));
    }
    DropUnusedInitializers();
    for (Value& v : g_.values) v.folded.reset();  // recomputed from the rewritten graph
    Status st = PrepareGraph(g_);
    if (!st.ok()) return Internal("inserting QuantizeLinear/DequantizeLinear left an invalid graph: " + st.message());
    return Status::Ok();
  }

 private:
  int NewValue(const std::string& base, DType dtype, const Value& like) { return AddValueLike(g_, base, like, dtype); }

  void AddNode(const std::string& op_type, const std::string& name, std::vector<int> inputs, int output,
               AttrList attrs = {}) {
    g_.AddNode(MakeNode(op_type, namer_.Take(name), std::move(inputs), {output}, std::move(attrs), opset_));
  }

  // Cast `in` to float32 (to16 = false) or back to `float_type` (to16 = true); returns the new value.
  int AddCast(int in, DType to, const std::string& base) {
    const Value& src = g_.value(in);
    int out = NewValue(base, to, src);
    int64_t onnx_to = to == DType::kFloat32 ? kOnnxFloat : to == DType::kFloat16 ? kOnnxFloat16 : kOnnxBFloat16;
    AddNode("Cast", base, {in}, out, {{"to", IntAttr(onnx_to)}});
    return out;
  }

  static bool IsHalf(DType t) { return t == DType::kFloat16 || t == DType::kBFloat16; }

  // 8-bit activations as uint8 (see ActivationPair): at opset 21 and later.
  bool Uint8Activations() const { return opset_ >= 21; }

  Status CheckScales(const Node& node, const TensorQuant& q, const char* what) const {
    if (q.scales.empty()) return InvalidArgument(node.Describe() + ": the plan gives no " + what + " scale");
    for (float s : q.scales) {
      if (!std::isfinite(s) || s <= 0) {
        return InvalidArgument(node.Describe() + ": " + what + " scale " + std::to_string(s) + " of tensor '" +
                               q.tensor + "' is not a positive finite number");
      }
    }
    if (!q.zero_points.empty() && q.zero_points.size() != q.scales.size()) {
      return InvalidArgument(node.Describe() + ": " + what + " of tensor '" + q.tensor + "' has " +
                             std::to_string(q.scales.size()) + " scales but " + std::to_string(q.zero_points.size()) +
                             " zero points");
    }
    return Status::Ok();
  }

  // Q -> DQ on an activation; returns the value that quantized consumers read instead.
  StatusOr<int> ActivationPair(const Node& node, int x, const TensorQuant& q) {
    std::string key = g_.value(x).name + "#" + FloatsKey(q);
    auto it = act_cache_.find(key);
    if (it != act_cache_.end()) return it->second;
    DOPT_RETURN_IF_ERROR(CheckScales(node, q, "activation"));
    if (q.scales.size() != 1) {
      return Unimplemented(node.Describe() + ": activation '" + q.tensor + "' has " + std::to_string(q.scales.size()) +
                           " scales; activations are quantized per tensor");
    }
    if (q.bits != 8 && q.bits != 16) {
      return InvalidArgument(node.Describe() + ": activation '" + q.tensor + "' has " + std::to_string(q.bits) +
                             " bits; 8 and 16 are supported");
    }
    if (opt_.check_opset && q.bits == 16 && opset_ < 21) {
      return Unimplemented(node.Describe() + ": 16-bit activations (int16 QuantizeLinear, strategy Quant_INT16-8) need "
                           "ONNX opset 21 or newer; the model has opset " + std::to_string(opset_));
    }
    const Value& xv = g_.value(x);
    const std::string base = xv.name;
    const DType xt = xv.dtype;
    if (!IsFloat(xt)) {
      return InvalidArgument(node.Describe() + ": activation '" + base + "' is " + DTypeName(xt) + ", not a float tensor");
    }
    if (xv.stored_float64) {
      return InvalidArgument(node.Describe() + ": activation '" + base +
                             "' is float64 in the source model; dopt writes no QuantizeLinear on float64 values");
    }
    const int32_t z = q.zero_points.empty() ? 0 : q.zero_points[0];
    const int32_t lo = q.bits == 16 ? -32768 : -128, hi = q.bits == 16 ? 32767 : 127;
    if (z < lo || z > hi) {
      return InvalidArgument(node.Describe() + ": activation zero point " + std::to_string(z) + " of '" + base +
                             "' is outside the " + std::to_string(q.bits) + "-bit range");
    }
    // At opset 21 and later, 8-bit activations are written as uint8 with zero point z + 128:
    // the same dequantized values (every quantized value moves by 128 with the zero point).
    // ONNX Runtime's optimizer (1.32) fails to load such a model with int8 activations: when
    // it moves a DequantizeLinear forward through a Reshape (the one its MatMul+Add -> Gemm
    // fusion puts before a 3-D MatMul input), the QuantizeLinear it adds gets output_dtype
    // INT8, and its int8 -> uint8 activation rewrite then changes that pair's zero point but
    // not output_dtype. Its CPU kernels run uint8 activations anyway (that rewrite).
    const DType qt = q.bits == 16 ? DType::kInt16 : Uint8Activations() ? DType::kUInt8 : DType::kInt8;
    Tensor scale(DType::kFloat32, {});
    scale.data<float>()[0] = q.scales[0];
    Tensor zp(qt, {});
    if (qt == DType::kInt8) zp.data<int8_t>()[0] = (int8_t)z;
    else if (qt == DType::kUInt8) zp.data<uint8_t>()[0] = (uint8_t)(z + 128);
    else zp.data<int16_t>()[0] = (int16_t)z;
    int s_id = AddInitializer(g_, base + "_scale", std::move(scale));
    int z_id = AddInitializer(g_, base + "_zero_point", std::move(zp));
    int in = IsHalf(xt) ? AddCast(x, DType::kFloat32, base + "_to_float") : x;
    int qv = NewValue(base + "_quantized", qt, g_.value(x));
    AddNode("QuantizeLinear", base + "_QuantizeLinear", {in, s_id, z_id}, qv);
    int dq = NewValue(base + "_dequantized", DType::kFloat32, g_.value(x));
    AddNode("DequantizeLinear", base + "_DequantizeLinear", {qv, s_id, z_id}, dq);
    int out = IsHalf(xt) ? AddCast(dq, xt, base + "_dequantized_" + (xt == DType::kFloat16 ? "fp16" : "bf16")) : dq;
    act_cache_[key] = out;
    return out;
  }

  // int8 weight initializer + DQ; returns the value that replaces the weight.
  StatusOr<int> WeightDQ(const Node& node, int w, const TensorQuant& q) {
    std::string key = g_.value(w).name + "#" + FloatsKey(q);
    auto it = w_cache_.find(key);
    if (it != w_cache_.end()) return it->second;
    DOPT_RETURN_IF_ERROR(CheckScales(node, q, "weight"));
    const Value& wv = g_.value(w);
    const std::string base = wv.name;
    const Tensor* c = wv.ConstantValue();
    if (!c) return InvalidArgument(node.Describe() + ": weight '" + base + "' is not a constant");
    if (!IsFloat(c->dtype())) return InvalidArgument(node.Describe() + ": weight '" + base + "' is " + DTypeName(c->dtype()));
    if (q.bits != 8) return Unimplemented(node.Describe() + ": " + std::to_string(q.bits) + "-bit weights are not supported");
    const Tensor wf = c->dtype() == DType::kFloat32 ? *c : c->CastTo(DType::kFloat32);
    int64_t channels = 1, inner = wf.numel();
    int axis = q.axis;
    if (axis >= 0) {
      if (axis >= wf.rank()) {
        return InvalidArgument(node.Describe() + ": weight axis " + std::to_string(axis) + " is out of range for '" + base +
                               "' of shape " + ShapeToString(wf.shape()));
      }
      channels = wf.dim(axis);
      inner = 1;
      for (int d = axis + 1; d < wf.rank(); ++d) inner *= wf.dim(d);
    }
    if ((int64_t)q.scales.size() != channels) {
      return InvalidArgument(node.Describe() + ": weight '" + base + "' has " + std::to_string(channels) +
                             " channel(s) along axis " + std::to_string(axis) + " but the plan gives " +
                             std::to_string(q.scales.size()) + " scale(s)");
    }
    if (axis >= 0 && opt_.check_opset && opset_ < 13) {
      return Unimplemented(node.Describe() + ": per-channel weight quantization (DequantizeLinear with axis) needs "
                           "ONNX opset 13 or newer; the model has opset " + std::to_string(opset_) +
                           " (upgrade the model first, or quantize weights per tensor)");
    }
    Tensor qw(DType::kInt8, wf.shape());
    const float* src = wf.data<float>();
    int8_t* dst = qw.data<int8_t>();
    for (int64_t i = 0; i < wf.numel(); ++i) {
      const int64_t ch = (i / inner) % channels;
      const float z = q.zero_points.empty() ? 0.f : (float)q.zero_points[ch];
      float v = std::nearbyint(src[i] / q.scales[ch]) + z;  // ties to even (default rounding mode)
      if (v != v) v = z;
      dst[i] = (int8_t)std::min(127.f, std::max(-128.f, v));
    }
    Tensor scale(DType::kFloat32, axis >= 0 ? Shape{channels} : Shape{});
    Tensor zp(DType::kInt8, axis >= 0 ? Shape{channels} : Shape{});
    for (int64_t ch = 0; ch < channels; ++ch) {
      scale.data<float>()[ch] = q.scales[ch];
      int32_t z = q.zero_points.empty() ? 0 : q.zero_points[ch];
      if (z < -128 || z > 127) return InvalidArgument(node.Describe() + ": weight zero point out of the int8 range");
      zp.data<int8_t>()[ch] = (int8_t)z;
    }
    int q_id = AddInitializer(g_, base + "_quantized", std::move(qw));
    int s_id = AddInitializer(g_, base + "_scale", std::move(scale));
    int z_id = AddInitializer(g_, base + "_zero_point", std::move(zp));
    int dq = NewValue(base + "_dequantized", DType::kFloat32, g_.value(w));
    AttrList attrs;
    if (axis >= 0) attrs.emplace_back("axis", IntAttr(axis));
    AddNode("DequantizeLinear", base + "_DequantizeLinear", {q_id, s_id, z_id}, dq, attrs);
    const DType wt = g_.value(w).dtype;
    int out = IsHalf(wt) ? AddCast(dq, wt, base + "_dequantized_" + (wt == DType::kFloat16 ? "fp16" : "bf16")) : dq;
    w_cache_[key] = out;
    return out;
  }

  // int32 bias initializer + DQ (scale = input scale x weight scale per channel).
  StatusOr<int> BiasDQ(const Node& node, int b, const QuantizedOp& op) {
    const Value& bv = g_.value(b);
    const std::string base = bv.name;
    const Tensor* c = bv.ConstantValue();
    if (!c) return InvalidArgument(node.Describe() + ": bias '" + base + "' is not a constant");
    if (!IsFloat(c->dtype())) return InvalidArgument(node.Describe() + ": bias '" + base + "' is " + DTypeName(c->dtype()));
    const Tensor bf = c->dtype() == DType::kFloat32 ? *c : c->CastTo(DType::kFloat32);
    const int64_t n = bf.numel();
    // The channel axis of the bias: its only dim > 1 (a [N] or [1, N] bias), none for one value.
    int axis = -1;
    for (int d = 0; d < bf.rank(); ++d) {
      if (bf.dim(d) == 1) continue;
      if (axis >= 0 || bf.dim(d) != n) {
        return Unimplemented(node.Describe() + ": bias '" + base + "' of shape " + ShapeToString(bf.shape()) +
                             " is not a vector");
      }
      axis = d;
    }
    std::vector<float> scales;
    if ((int64_t)op.bias.scales.size() == n) {
      scales = op.bias.scales;
    } else {
      const std::vector<float>& sw = op.weight.scales;
      const float sin = op.input.scales.at(0);
      const int64_t cw = (int64_t)sw.size();
      if (cw == 0 || (n % cw != 0 && cw != 1)) {
        return InvalidArgument(node.Describe() + ": bias '" + base + "' has " + std::to_string(n) + " values but the weight has " +
                               std::to_string(cw) + " scales");
      }
      for (int64_t i = 0; i < n; ++i) scales.push_back(sin * sw[cw == 1 ? 0 : i % cw]);
    }
    bool per_channel = false;
    for (float s : scales) {
      if (!std::isfinite(s) || s <= 0) {
        return InvalidArgument(node.Describe() + ": bias scale " + std::to_string(s) + " of '" + base +
                               "' is not a positive finite number");
      }
      if (s != scales[0]) per_channel = true;
    }
    if (per_channel && opt_.check_opset && opset_ < 13) {
      return Unimplemented(node.Describe() + ": per-channel bias quantization needs ONNX opset 13 or newer; the model has opset " +
                           std::to_string(opset_));
    }
    std::string key = base + "#" + std::to_string(per_channel);
    for (float s : scales) key += "|" + std::to_string(s);
    auto it = b_cache_.find(key);
    if (it != b_cache_.end()) return it->second;
    Tensor qb(DType::kInt32, bf.shape());
    for (int64_t i = 0; i < n; ++i) {
      double v = std::nearbyint((double)bf.data<float>()[i] / (double)scales[i]);
      if (v != v) v = 0;
      v = std::min<double>(std::numeric_limits<int32_t>::max(), std::max<double>(std::numeric_limits<int32_t>::min(), v));
      qb.data<int32_t>()[i] = (int32_t)v;
    }
    Tensor scale(DType::kFloat32, per_channel ? Shape{n} : Shape{});
    for (int64_t i = 0; i < (per_channel ? n : 1); ++i) scale.data<float>()[i] = scales[i];
    int q_id = AddInitializer(g_, base + "_quantized", std::move(qb));
    int s_id = AddInitializer(g_, base + "_scale", std::move(scale));
    int dq = NewValue(base + "_dequantized", DType::kFloat32, g_.value(b));
    AttrList attrs;
    if (per_channel) attrs.emplace_back("axis", IntAttr(axis < 0 ? 0 : axis));
    AddNode("DequantizeLinear", base + "_DequantizeLinear", {q_id, s_id}, dq, attrs);
    const DType bt = g_.value(b).dtype;
    int out = IsHalf(bt) ? AddCast(dq, bt, base + "_dequantized_" + (bt == DType::kFloat16 ? "fp16" : "bf16")) : dq;
    b_cache_[key] = out;
    return out;
  }

  int InputIndex(const Node& n, const std::string& tensor, int fallback) const {
    for (int i = 0; i < (int)n.inputs.size(); ++i)
      if (n.inputs[i] >= 0 && g_.value(n.inputs[i]).name == tensor) return i;
    return fallback;
  }

  Status QuantizeOp(int ni, const QuantizedOp& op) {
    // Copies: AddNode may reallocate g_.nodes.
    const Node node = g_.nodes[ni];
    if (!op.op_type.empty() && op.op_type != node.op_type) {
      return InvalidArgument("the quantization plan says node '" + op.node + "' is " + op.op_type + ", the graph has " +
                             node.Describe());
    }
    if (op.activation_only) {  // quantize_op_type: its data input only (input 0)
      if (node.inputs.empty() || node.inputs[0] < 0 || (!op.input.tensor.empty() && g_.value(node.inputs[0]).name != op.input.tensor)) {
        return InvalidArgument(node.Describe() + ": the plan's activation '" + op.input.tensor + "' is not its input 0");
      }
      DOPT_ASSIGN_OR_RETURN(int xq, ActivationPair(node, node.inputs[0], op.input));
      g_.nodes[ni].inputs[0] = xq;
      g_.nodes[ni].dirty = true;
      return Status::Ok();
    }
    // Which input is which: the plan's tensor names, else the op's quantization traits.
    const OpDef* def = OpDefOf(node);
    if (!def || !def->quant.weighted()) {
      return InvalidArgument("the quantization plan quantizes " + node.Describe() + ", an op with no weight input");
    }
    const QuantTraits& traits = def->quant;
    const int wi = op.weight.tensor.empty() ? op.weight_input_index
                                            : InputIndex(node, op.weight.tensor, op.weight_input_index);
    if (wi < 0 || wi >= (int)node.inputs.size() || node.inputs[wi] < 0) {
      return InvalidArgument(node.Describe() + ": has no weight input " + std::to_string(wi));
    }
    if (!op.weight.tensor.empty() && g_.value(node.inputs[wi]).name != op.weight.tensor) {
      return InvalidArgument(node.Describe() + ": the plan's weight '" + op.weight.tensor + "' is not an input of the node");
    }
    int xi = op.input.tensor.empty() ? -1 : InputIndex(node, op.input.tensor, -1);
    if (xi == wi && op.weight_is_activation) {  // x x x: both operands are one tensor
      for (int i = 0; i < 2 && i < (int)node.inputs.size(); ++i)
        if (i != wi && node.inputs[i] >= 0 && g_.value(node.inputs[i]).name == op.input.tensor) xi = i;
    }
    if (xi < 0 || xi == wi) {
      if (op.input.tensor.empty()) {
        xi = wi == traits.activation_input ? traits.weight_input : traits.activation_input;  // MatMul: W * x
      } else {
        return InvalidArgument(node.Describe() + ": the plan's activation '" + op.input.tensor +
                               "' is not an input of the node");
      }
    }
    int bi = -1;
    if (op.has_bias) {
      bi = op.bias.tensor.empty() ? traits.bias_input : InputIndex(node, op.bias.tensor, -1);
      if (bi < 0 || bi >= (int)node.inputs.size() || node.inputs[bi] < 0 || bi == wi || bi == xi) {
        return InvalidArgument(node.Describe() + ": the plan's bias '" + op.bias.tensor + "' is not an input of the node");
      }
    }
    if (op.weight_is_activation && op.has_bias) {
      return InvalidArgument(node.Describe() + ": the plan quantizes two activation operands and a bias");
    }
    int w2i = -1;
    if (op.has_weight2) {
      w2i = op.weight2.tensor.empty() ? op.weight2_input_index : InputIndex(node, op.weight2.tensor, -1);
      if (w2i < 0 || w2i >= (int)node.inputs.size() || node.inputs[w2i] < 0 || w2i == wi || w2i == xi) {
        return InvalidArgument(node.Describe() + ": the plan's second weight '" + op.weight2.tensor +
                               "' is not an input of the node");
      }
    }
    DOPT_ASSIGN_OR_RETURN(int xq, ActivationPair(node, node.inputs[xi], op.input));
    int wq = -1;
    if (op.weight_is_activation) {
      DOPT_ASSIGN_OR_RETURN(wq, ActivationPair(node, node.inputs[wi], op.weight));
    } else {
      DOPT_ASSIGN_OR_RETURN(wq, WeightDQ(node, node.inputs[wi], op.weight));
    }
    int w2q = -1;
    if (w2i >= 0) {
      DOPT_ASSIGN_OR_RETURN(w2q, WeightDQ(node, node.inputs[w2i], op.weight2));
    }
    int bq = -1;
    if (bi >= 0) {
      DOPT_ASSIGN_OR_RETURN(bq, BiasDQ(node, node.inputs[bi], op));
    }
    Node& n = g_.nodes[ni];
    n.inputs[xi] = xq;
    n.inputs[wi] = wq;
    if (w2i >= 0) n.inputs[w2i] = w2q;
    if (bi >= 0) n.inputs[bi] = bq;
    n.dirty = true;
    return Status::Ok();
  }

  // Initializers that no node reads (the float weights and biases replaced here, and those a
  // graph pass such as BatchNormalization folding left behind) are dropped from the model.
  void DropUnusedInitializers() {
    auto consumers = g_.Consumers();
    std::unordered_set<int> outs(g_.outputs.begin(), g_.outputs.end());
    for (int v = 0; v < (int)g_.values.size(); ++v) {
      Value& val = g_.value(v);
      if (!val.initializer || !consumers[v].empty() || outs.count(v)) continue;
      val.initializer.reset();
      val.dirty = true;
    }
  }

  Graph& g_;
  QdqOptions opt_;
  int opset_;
  NodeNamer namer_;
  std::map<std::string, int> act_cache_, w_cache_, b_cache_;
};

}  // namespace

Status InsertQDQ(Graph& graph, const QuantPlan& plan, const QdqOptions& options) {
  if (options.check_opset && DefaultOpset(graph) < 10 && !plan.ops.empty()) {
    return Unimplemented("QuantizeLinear/DequantizeLinear need ONNX opset 10 or newer (13 for per-channel weights); the model "
                         "has opset " + std::to_string(DefaultOpset(graph)) + " (upgrade the model first)");
  }
  QdqBuilder b(graph, options);
  return b.Apply(plan);
}

Status InsertQDQ(Graph& graph, const QuantPlan& plan) { return InsertQDQ(graph, plan, QdqOptions{}); }

StatusOr<ExportedModel> ExportOnnxQdq(Graph& graph, const QuantPlan& plan, const ExportOptions& o) {
  // Opset 13 at least, for per-channel DequantizeLinear; 21 for the int16
  // QuantizeLinear/DequantizeLinear of 16-bit activations.
  bool wide = o.activation_bits > 8;
  for (const QuantizedOp& op : plan.ops) wide = wide || op.input.bits > 8 || (op.weight_is_activation && op.weight.bits > 8);
  const int qdq_opset = wide ? 21 : 13;
  if (!plan.ops.empty() && DefaultOpset(graph) < qdq_opset) {
    DOPT_RETURN_IF_ERROR(UpgradeOpset(graph, qdq_opset)
                             .WithContext(o.model_path + ": upgrading to opset " + std::to_string(qdq_opset) + " for QDQ"));
  }
  DOPT_RETURN_IF_ERROR(InsertQDQ(graph, plan).WithContext(o.model_path));
  ExportedModel out;
  out.output_opset = DefaultOpset(graph);
  out.format_note = "ONNX";
  // A dynamic batch the calibration fixed (--input_shape) stays dynamic where the graph allows.
  SerializeOptions so;
  so.keep_open_input_dims = true;
  DOPT_ASSIGN_OR_RETURN(out.bytes, SerializeOnnxModel(graph, so));
  return out;
}

}  // namespace dopt
