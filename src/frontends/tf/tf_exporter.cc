#include "frontends/tf/tf_exporter.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "frontends/tf/tf_fake_quant.h"
#include "frontends/tf/tf_graph_edit.h"
#include "frontends/tf/tf_graphdef.h"
#include "frontends/tf/tf_weight_layout.h"
#include "ops/op.h"

namespace dopt {

namespace {

constexpr const char* kNchwSuffix = "/dopt_nchw";
constexpr int kMaxFoldedChain = 16;

// The TF tensor behind an IR value name (contract: "X" or "X/dopt_nchw" for TF tensor X).
std::string TfTensorOfIr(const std::string& ir_name) {
  const std::string s(kNchwSuffix);
  if (ir_name.size() > s.size() && ir_name.compare(ir_name.size() - s.size(), s.size(), s) == 0)
    return ir_name.substr(0, ir_name.size() - s.size());
  return ir_name;
}

bool IsDoptMade(const std::string& tensor) { return tensor.find("/dopt_") != std::string::npos; }

class TfQuantWriter {
 public:
  TfQuantWriter(Graph& g, dopt_tf::GraphDef* gd) : g_(g), ed_(gd) {}

  Status Apply(const QuantPlan& plan) {
    for (const QuantizedOp& op : plan.ops) DOPT_RETURN_IF_ERROR(QuantizeOp(op));
    ed_.PruneUnused(replaced_);
    return Status::Ok();
  }


 private:
  const Node* IrNode(const std::string& name) const {
    for (const Node& n : g_.nodes)
      if (n.name == name) return &n;
    return nullptr;
  }

  // The FakeQuantWithMinMaxVars reading TF tensor `x` with the activation params `q` (one per
  // tensor and params, shared by its consumers); returns its name.
  StatusOr<std::string> FakeQuant(const std::string& x, const TensorQuant& q, const std::string& what) {
    if (q.scales.size() != 1) {
      return Unimplemented(what + ": activation '" + q.tensor + "' has " + std::to_string(q.scales.size()) +
                           " scales; activations are quantized per tensor");
    }
    if (q.bits < 2 || q.bits > 16) {
      return Unimplemented(what + ": " + std::to_string(q.bits) +
                           "-bit activations: FakeQuantWithMinMaxVars takes 2 to 16 bits");
    }
    const float s = q.scales[0];
    const int32_t z = q.zero_points.empty() ? 0 : q.zero_points[0];
    const int32_t lo = -(1 << (q.bits - 1)), hi = (1 << (q.bits - 1)) - 1;
    if (!std::isfinite(s) || s <= 0)
      return InvalidArgument(what + ": activation scale " + std::to_string(s) + " of '" + q.tensor + "' is not a positive finite number");
    if (z < lo || z > hi)
      return InvalidArgument(what + ": activation zero point " + std::to_string(z) + " of '" + q.tensor +
                             "' is outside the " + std::to_string(q.bits) + "-bit range");
    const std::string key = x + "|" + std::to_string(q.bits) + "|" + std::to_string(s) + "|" + std::to_string(z);
    auto it = fake_quant_.find(key);
    if (it != fake_quant_.end()) return it->second;
    const FakeQuantRange r = FakeQuantMinMax(s, z, q.bits);
    TfTensorRef ref = ParseTfInput(x);
    std::string name = ed_.UniqueName(ref.node + "/dopt_fake_quant" + (ref.index ? "_" + std::to_string(ref.index) : ""));
    dopt_tf::NodeDef* n = ed_.AddNode(name, "FakeQuantWithMinMaxVars");
    n->add_input(x);
    DOPT_ASSIGN_OR_RETURN(std::string mn, ed_.AddConst(name + "/min", Tensor::Scalar(r.min)));
    DOPT_ASSIGN_OR_RETURN(std::string mx, ed_.AddConst(name + "/max", Tensor::Scalar(r.max)));
    n->add_input(mn);
    n->add_input(mx);
    SetIntAttr(n, "num_bits", q.bits);
    SetBoolAttr(n, "narrow_range", false);
    fake_quant_[key] = name;
    return name;
  }

  // int8 Const -> Cast -> Mul(per-channel scale): exactly the values of dopt's DequantizeLinear.
  // The shape of the Const a weight input reads (through Identity nodes).
  StatusOr<Shape> ConstShape(const dopt_tf::NodeDef& tn, const std::string& input) {
    dopt_tf::NodeDef* n = ed_.Find(ParseTfInput(input).node);
    for (int hops = 0; n && n->op() == "Identity" && n->input_size() > 0 && hops < 64; ++hops)
      n = ed_.Find(ParseTfInput(n->input(0)).node);
    auto v = n && n->op() == "Const" ? n->attr().find("value") : decltype(n->attr().end()){};
    if (!n || n->op() != "Const" || v == n->attr().end())
      return Unimplemented(DescribeTfNode(tn) + ": its kernel '" + input + "' is not a Const of the GraphDef");
    Shape s;
    for (const auto& d : v->second.tensor().tensor_shape().dim()) s.push_back(d.size());
    return s;
  }

  // tf_shape: an Einsum kernel's own shape (the IR weight is it as [k, |N|]); nullptr otherwise.
  StatusOr<std::string> Weights(const dopt_tf::NodeDef& tn, const Node& ir, const QuantizedOp& op, TfWeightKind kind,
                                const Shape* tf_shape = nullptr) {
    const std::string what = DescribeTfNode(tn);
    const TensorQuant& q = op.weight;
    const int wid = g_.FindValue(q.tensor);
    const Tensor* c = wid >= 0 ? g_.value(wid).ConstantValue() : nullptr;
    if (!c) return InvalidArgument(what + ": the plan's weight '" + q.tensor + "' is not a constant of the graph");
    if (!IsFloat(c->dtype())) return InvalidArgument(what + ": weight '" + q.tensor + "' is " + DTypeName(c->dtype()));
    if (q.bits != 8) return Unimplemented(what + ": " + std::to_string(q.bits) + "-bit weights are not supported");
    for (int32_t z : q.zero_points)
      if (z != 0) return Unimplemented(what + ": weight '" + q.tensor + "' has a non-zero zero point");
    const Tensor wf = c->CastTo(DType::kFloat32);
    int64_t channels = 1, inner = wf.numel();
    if (q.axis >= 0) {
      if (q.axis >= wf.rank()) return InvalidArgument(what + ": weight axis " + std::to_string(q.axis) + " is out of range");
      channels = wf.dim(q.axis);
      inner = 1;
      for (int d = q.axis + 1; d < wf.rank(); ++d) inner *= wf.dim(d);
    }
    if ((int64_t)q.scales.size() != channels) {
      return InvalidArgument(what + ": weight '" + q.tensor + "' has " + std::to_string(channels) +
                             " channel(s) but the plan gives " + std::to_string(q.scales.size()) + " scale(s)");
    }
    // As InsertQDQ: round half to even of the float quotient, clamped to int8.
    Tensor qw(DType::kInt8, wf.shape());
    for (int64_t i = 0; i < wf.numel(); ++i) {
      const int64_t ch = (i / inner) % channels;
      float v = std::nearbyint(wf.data<float>()[i] / q.scales[ch]);
      if (v != v) v = 0;
      qw.data<int8_t>()[i] = (int8_t)std::min(127.f, std::max(-128.f, v));
    }
    DOPT_ASSIGN_OR_RETURN(int64_t groups, ir.GetInt("group", 1));
    DOPT_ASSIGN_OR_RETURN(Tensor tq, IrWeightToTf(qw, kind, groups));
    DOPT_ASSIGN_OR_RETURN(Shape sshape, TfScaleShape(wf.shape(), kind, q.axis, groups));
    if (tf_shape) {
      int64_t ne = 1;
      for (int64_t d : *tf_shape) ne *= d;
      if (tf_shape->size() < 2 || ne != tq.numel() || (*tf_shape)[0] != wf.dim(0))
        return InvalidArgument(what + ": kernel shape " + ShapeToString(*tf_shape) + " does not match the weight " +
                               ShapeToString(wf.shape()));
      tq = tq.Reshaped(*tf_shape);
      if (q.axis == 1) {
        sshape = Shape(tf_shape->begin() + 1, tf_shape->end());  // the output labels, in order
      } else if (q.axis >= 0) {
        return Unimplemented(what + ": per-channel weight axis " + std::to_string(q.axis) + " of an Einsum kernel");
      }
    }
    Tensor scale(DType::kFloat32, sshape);
    for (int64_t i = 0; i < channels; ++i) scale.data<float>()[i] = q.scales[i];
    const std::string base = tn.name() + "/dopt_weight";
    DOPT_ASSIGN_OR_RETURN(std::string qname, ed_.AddConst(base + "_int8", tq));
    DOPT_ASSIGN_OR_RETURN(std::string sname, ed_.AddConst(base + "_scale", scale));
    const std::string cast_name = ed_.UniqueName(base + "_float");
    dopt_tf::NodeDef* cast = ed_.AddNode(cast_name, "Cast");
    cast->add_input(qname);
    SetTypeAttr(cast, "SrcT", dopt_tf::DT_INT8);
    SetTypeAttr(cast, "DstT", dopt_tf::DT_FLOAT);
    SetBoolAttr(cast, "Truncate", false);
    const std::string mul_name = ed_.UniqueName(base);
    dopt_tf::NodeDef* mul = ed_.AddNode(mul_name, "Mul");
    mul->add_input(cast_name);
    mul->add_input(sname);
    SetTypeAttr(mul, "T", dopt_tf::DT_FLOAT);
    return mul_name;
  }

  // The IR op's bias after folding, as dopt's int8 model computes it: int32 on the grid
  // input scale x weight scale, dequantized in float (as InsertQDQ); float when not quantized.
  StatusOr<Tensor> Bias(const Node& ir, int bias_input, const QuantizedOp& op, const std::string& what) {
    const Tensor* c = g_.value(ir.inputs[bias_input]).ConstantValue();
    if (!c) return InvalidArgument(what + ": the bias of the IR op is not a constant");
    Tensor bf = c->CastTo(DType::kFloat32).Reshaped({c->numel()});
    if (!op.has_bias) return bf;
    const int64_t n = bf.numel();
    std::vector<float> scales;
    if ((int64_t)op.bias.scales.size() == n) {
      scales = op.bias.scales;
    } else {
      const std::vector<float>& sw = op.weight.scales;
      const int64_t cw = (int64_t)sw.size();
      if (cw == 0 || op.input.scales.empty() || (n % cw != 0 && cw != 1))
        return InvalidArgument(what + ": the bias has " + std::to_string(n) + " values for " + std::to_string(cw) + " weight scales");
      for (int64_t i = 0; i < n; ++i) scales.push_back(op.input.scales[0] * sw[cw == 1 ? 0 : i % cw]);
    }
    for (int64_t i = 0; i < n; ++i) {
      double v = std::nearbyint((double)bf.data<float>()[i] / (double)scales[i]);
      if (v != v) v = 0;
      v = std::min<double>(std::numeric_limits<int32_t>::max(), std::max<double>(std::numeric_limits<int32_t>::min(), v));
      bf.data<float>()[i] = (float)(int32_t)v * scales[i];
    }
    return bf;
  }

  // The TF nodes between the quantized node and the tensor the folded IR op produces: the
  // BiasAdd / FusedBatchNorm / Add / Mul ... that dopt folded into it.
  StatusOr<std::vector<dopt_tf::NodeDef*>> FoldedChain(const dopt_tf::NodeDef& tn, const std::string& last) {
    std::vector<dopt_tf::NodeDef*> chain;
    std::string cur = tn.name();
    const std::string what = DescribeTfNode(tn);
    while (TfTensorName(cur, 0) != last) {
      if ((int)chain.size() >= kMaxFoldedChain || ParseTfInput(last).index != 0) {
        return Unimplemented(what + ": dopt folded the ops up to '" + last + "' into it, and the exporter cannot follow them in the GraphDef");
      }
      auto cons = ed_.Consumers(cur, 0);
      if (cons.size() != 1) {
        return Unimplemented(what + ": dopt folded the ops up to '" + last + "' into it, but '" + cur + "' has " +
                             std::to_string(cons.size()) + " readers in the GraphDef (one expected)");
      }
      chain.push_back(cons[0].first);
      cur = cons[0].first->name();
    }
    for (dopt_tf::NodeDef* n : chain) {
      std::vector<std::string> readers = ed_.ReadersOfOtherOutputs(n->name());
      if (!readers.empty()) {
        return Unimplemented(DescribeTfNode(*n) + ": folded into " + tn.name() + ", but its other outputs are read by " +
                             readers[0] + "; only output 0 of a folded op may be used");
      }
    }
    return chain;
  }

  // Turns `n` into `op` reading `data` (keeping its name, device, control inputs).
  void Rewrite(dopt_tf::NodeDef* n, const std::string& op, const std::vector<std::string>& data) {
    std::vector<std::string> control;
    for (const std::string& in : n->input()) {
      TfTensorRef r = ParseTfInput(in);
      if (r.control) control.push_back(in);
      else replaced_.push_back(r.node);
    }
    n->clear_input();
    for (const std::string& in : data) n->add_input(in);
    for (const std::string& in : control) n->add_input(in);
    n->set_op(op);
    n->mutable_attr()->clear();
    SetTypeAttr(n, "T", dopt_tf::DT_FLOAT);
  }

  // A product of two activations (attention's Q x K^T, softmax x V): a FakeQuantWithMinMaxVars
  // on each operand, the op itself unchanged. IR input i is TF input i (MatMulOp keeps the
  // order); where the frontend swapped an operand's last two dims (transpose_a/b, adj_x/y) the
  // IR reads its Transpose `<N>/dopt_t*`, and the FakeQuant goes on TF's own operand instead:
  // per-tensor rounding commutes with a transpose.
  Status QuantizePair(const QuantizedOp& op, const Node& ir, dopt_tf::NodeDef* tn, const std::string& what) {
    auto t = tn->attr().find("T");
    if (t != tn->attr().end() && t->second.type() != dopt_tf::DT_FLOAT)
      return Unimplemented(what + ": only float32 ops can be quantized (T is not DT_FLOAT)");
    if (ir.outputs.empty() || ir.outputs[0] < 0 || TfTensorOfIr(g_.value(ir.outputs[0]).name) != tn->name())
      return Unimplemented(what + ": the IR op's result is not the node's own output");
    std::vector<std::pair<int, std::string>> edits;  // TF input index -> its FakeQuant
    for (const TensorQuant* q : {&op.input, &op.weight}) {
      int tf_input = -1;
      for (int i = 0; i < 2 && i < (int)ir.inputs.size() && i < tn->input_size() && tf_input < 0; ++i) {
        if (ir.inputs[i] < 0 || g_.value(ir.inputs[i]).name != q->tensor) continue;
        if (!edits.empty() && edits[0].first == i) continue;  // x x x^T: the other operand
        const std::string x = TfTensorOfIr(q->tensor);
        if (ed_.ReadsTensor(tn->input(i), x) || x.rfind(tn->name() + "/dopt_t", 0) == 0) tf_input = i;
      }
      if (tf_input < 0) {
        return InvalidArgument(what + ": the plan's operand '" + q->tensor + "' is not one of its two data inputs");
      }
      DOPT_ASSIGN_OR_RETURN(std::string fq, FakeQuant(tn->input(tf_input), *q, what));
      edits.emplace_back(tf_input, fq);
    }
    for (const auto& [i, fq] : edits) tn->set_input(i, fq);
    return Status::Ok();
  }

  Status QuantizeOp(const QuantizedOp& op) {
    const Node* ir = IrNode(op.node);
    if (!ir) return InvalidArgument("the quantization plan names node '" + op.node + "', which is not in the graph");
    dopt_tf::NodeDef* tn = ed_.Find(op.node);
    if (!tn) {
      return InvalidArgument("quantized op '" + op.node + "' is not a node of the GraphDef (the TF exporter writes "
                             "quantisation into the original graph; was the model loaded by the TF frontend?)");
    }
    const std::string what = DescribeTfNode(*tn);
    if (op.weight_is_activation) return QuantizePair(op, *ir, tn, what);
    const TfQuantizedOpInfo* info = FindTfQuantizedOp(tn->op());
    if (!info) return Unimplemented(what + ": the TF exporter cannot quantize this op type");
    auto t = tn->attr().find("T");
    if (t != tn->attr().end() && t->second.type() != dopt_tf::DT_FLOAT)
      return Unimplemented(what + ": only float32 ops can be quantized (T is not DT_FLOAT)");

    // Activation: FakeQuantWithMinMaxVars on the TF tensor, feeding the data input.
    const std::string x = TfTensorOfIr(op.input.tensor);
    if (IsDoptMade(x)) {
      return Unimplemented(what + ": its quantized input '" + op.input.tensor +
                           "' is a tensor the frontend made, not one of the GraphDef");
    }
    int di = info->data_input;
    if (di < 0) {
      for (int i = 0; i < std::min(2, tn->input_size()) && di < 0; ++i)
        if (ed_.ReadsTensor(tn->input(i), x)) di = i;
    }
    if (di < 0 || di >= tn->input_size() || !ed_.ReadsTensor(tn->input(di), x)) {
      return InvalidArgument(what + ": the plan's activation '" + x + "' is not its data input");
    }
    TfWeightKind kind = info->kind;
    int fi = info->filter_input;
    if (fi < 0) {  // MatMul: the weight is the other operand
      if (di != 0) return Unimplemented(what + ": a constant first operand (weight x activation) is not supported");
      fi = 1;
      auto tb = tn->attr().find(tn->op() == "MatMul" ? "transpose_b" : "adj_y");
      if (tb != tn->attr().end() && tb->second.b()) kind = TfWeightKind::kMatMulTransposed;
    }
    if (fi >= tn->input_size()) return InvalidArgument(what + ": has no weight input " + std::to_string(fi));
    DOPT_ASSIGN_OR_RETURN(std::string fq, FakeQuant(x, op.input, what));
    Shape einsum_shape;
    if (tn->op() == "Einsum") { DOPT_ASSIGN_OR_RETURN(einsum_shape, ConstShape(*tn, tn->input(fi))); }
    DOPT_ASSIGN_OR_RETURN(std::string w, Weights(*tn, *ir, op, kind, tn->op() == "Einsum" ? &einsum_shape : nullptr));
    tn->set_input(di, fq);
    replaced_.push_back(ParseTfInput(tn->input(fi)).node);
    tn->set_input(fi, w);

    // Folded bias / BatchNorm / scale chain up to the tensor the IR op now produces.
    if (ir->outputs.empty() || ir->outputs[0] < 0) return Internal(what + ": the IR op has no output");
    std::string last = TfTensorOfIr(g_.value(ir->outputs[0]).name);
    // "<N>/dopt_matmul": N's own result before the frontend's Reshape (Einsum "P k, k N -> P N").
    if (IsDoptMade(last) && last.rfind(tn->name() + "/dopt_", 0) == 0) last = tn->name();
    DOPT_ASSIGN_OR_RETURN(std::vector<dopt_tf::NodeDef*> chain, FoldedChain(*tn, last));
    // The IR op's bias input, from its quantization traits (ops/op.h).
    const OpDef* def = OpDefOf(*ir);
    const int bias_input = def && def->quant.weighted() ? def->quant.bias_input : -1;
    const bool has_bias = bias_input >= 0 && (int)ir->inputs.size() > bias_input && ir->inputs[bias_input] >= 0;
    if (chain.empty()) {
      if (has_bias) return Unimplemented(what + ": the IR op has a bias, but no BiasAdd follows it in the GraphDef");
      return Status::Ok();
    }
    std::string format = "NHWC";
    auto df = tn->attr().find("data_format");
    if (df != tn->attr().end() && !df->second.s().empty()) format = df->second.s();
    // NodeDefs live behind pointers in the repeated field: adding nodes does not move them.
    std::string prev = tn->name();
    for (size_t i = 0; i < chain.size(); ++i) {
      dopt_tf::NodeDef* n = chain[i];
      if (i == 0 && has_bias) {
        DOPT_ASSIGN_OR_RETURN(Tensor b, Bias(*ir, bias_input, op, what));
        DOPT_ASSIGN_OR_RETURN(std::string bname, ed_.AddConst(n->name() + "/dopt_bias", b));
        Rewrite(n, "BiasAdd", {prev, bname});
        SetStringAttr(n, "data_format", format);
      } else {
        Rewrite(n, "Identity", {prev});
      }
      prev = n->name();
    }
    return Status::Ok();
  }

  Graph& g_;
  TfGraphEditor ed_;
  std::map<std::string, std::string> fake_quant_;
  std::vector<std::string> replaced_;  // nodes whose output an edit stopped reading
};

}  // namespace

StatusOr<ExportedModel> ExportTfGraphDef(Graph& graph, const QuantPlan& plan, const ExportOptions& o) {
  if (!graph.info.source_bytes) {
    return Internal(o.model_path + ": the graph does not hold the original GraphDef bytes (ModelInfo.source_bytes)");
  }
  if (plan.equalization) {
    // Quantized ops take their (equalized) weights and biases from the IR graph; float ops stay
    // as the GraphDef has them, so an equalized Conv left in float would keep its old weights
    // while its chain partner is rescaled. Only a Conv whose weight no pass changed may stay float.
    std::set<std::string> quantized;
    for (const QuantizedOp& op : plan.ops) quantized.insert(op.node);
    for (const Node& n : graph.nodes) {
      if (n.op_type != "Conv" || quantized.count(n.name) || n.inputs.size() < 2 || n.inputs[1] < 0) continue;
      if (!graph.value(n.inputs[1]).dirty) continue;
      return Unimplemented(o.model_path + ": " + n.Describe() +
                           " stays float, but dopt rewrote its weights (equalization: true); the TensorFlow writer "
                           "keeps float ops as the GraphDef has them, so the model would not match; quantize it too "
                           "(no exclude_op) or turn equalization off");
    }
  }
  DOPT_ASSIGN_OR_RETURN(dopt_tf::GraphDef gd, ParseGraphDef(*graph.info.source_bytes, o.model_path));
  TfQuantWriter w(graph, &gd);
  DOPT_RETURN_IF_ERROR(w.Apply(plan).WithContext(o.model_path));
  ExportedModel out;
  out.format_note = "TensorFlow GraphDef (FakeQuantWithMinMaxVars activations, int8 weights)";
  // Deterministic: attr maps written in key order, so the same inputs give the same bytes.
  DOPT_ASSIGN_OR_RETURN(out.bytes, SerializeGraphDef(gd));
  return out;
}

}  // namespace dopt
