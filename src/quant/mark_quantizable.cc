#include "quant/mark_quantizable.h"

#include <algorithm>
#include <set>
#include <utility>

#include "ops/op.h"

namespace dopt {

namespace {

bool IsFloatType(DType t) { return t == DType::kFloat32 || t == DType::kFloat16 || t == DType::kBFloat16; }

// A model constant that a user cannot override: an initializer that is not also a graph input.
bool IsWeight(const Graph& g, int id) {
  if (id < 0 || !g.value(id).initializer) return false;
  return std::find(g.inputs.begin(), g.inputs.end(), id) == g.inputs.end();
}

bool IsActivation(const Graph& g, int id) {
  return id >= 0 && !g.value(id).IsConstant() && IsFloatType(g.value(id).dtype);
}

// The first graph input that value `id` is computed from (through its producers), or -1.
int UpstreamInput(const Graph& g, int id) {
  std::vector<int> stack{id};
  std::set<int> seen{id};
  while (!stack.empty()) {
    int v = stack.back();
    stack.pop_back();
    if (std::find(g.inputs.begin(), g.inputs.end(), v) != g.inputs.end()) return v;
    int p = g.value(v).producer;
    if (p < 0) continue;
    for (int in : g.nodes[p].inputs)
      if (in >= 0 && seen.insert(in).second) stack.push_back(in);
  }
  return -1;
}

// Why value `id` (the op's `what`: "weight", "bias", "operand") is not a model constant, in
// words a user can act on: what computes it, and from which graph input.
std::string NotConstantReason(const Graph& g, int id, const std::string& what) {
  if (id < 0) return what + " is missing";
  const Value& v = g.value(id);
  const std::string head = what + " '" + v.name + "' ";
  if (std::find(g.inputs.begin(), g.inputs.end(), id) != g.inputs.end()) {
    if (v.initializer) return head + "is a graph input (its initializer is only a default a user may override)";
    return head + "is a graph input";
  }
  if (v.producer < 0) return head + "is neither an initializer nor computed by a node";
  const Node& p = g.nodes[v.producer];
  const int src = UpstreamInput(g, id);
  if (src >= 0) return head + "is computed by " + p.Describe() + " from the graph input '" + g.value(src).name + "'";
  return head + "is computed by " + p.Describe() + " from constants but was not folded (an op dopt does not fold, " +
         "or larger than the folding limit)";
}

std::string RankRange(const QuantTraits& t) {
  if (t.weight_max_rank == t.weight_min_rank) return std::to_string(t.weight_min_rank);
  if (t.weight_max_rank < 0) return std::to_string(t.weight_min_rank) + " or more";
  return std::to_string(t.weight_min_rank) + " to " + std::to_string(t.weight_max_rank);
}

// Decides for one node of a weighted op (its QuantTraits, ops/op.h); returns "" and fills `c`
// when it is quantizable, else the reason.
StatusOr<std::string> Check(const Graph& g, const Node& n, const QuantTraits& t, const QuantSelectionOptions& opt,
                            QuantCandidate* c) {
  const int nin = (int)n.inputs.size();
  auto in = [&](int i) { return i >= 0 && i < nin ? n.inputs[i] : -1; };
  c->op_type = n.op_type;
  for (const std::vector<int>* ids : {&n.inputs, &n.outputs})
    for (int id : *ids)
      if (id >= 0 && g.value(id).stored_float64)
        return "computes in float64 in the source model ('" + g.value(id).name + "'): dopt runs it in float32 and "
               "writes no QuantizeLinear/DequantizeLinear on float64 values";
  int ai = t.activation_input, wi = t.weight_input;
  const bool wa = IsWeight(g, in(ai)), ww = IsWeight(g, in(wi));
  if (t.operands_commute) {
    if (wa && ww) return std::string("both operands are constants");
    if (!wa && !ww) {
      const bool both_float = IsActivation(g, in(ai)) && IsActivation(g, in(wi));
      if (t.activation_pair && both_float && opt.activation_pairs) {
        c->activation_input = ai;
        c->weight_input = wi;
        c->activation_pair = true;
        c->weight_axis = -1;
        c->bias_input = -1;
        return std::string();
      }
      std::string why = "no constant operand (activation x activation)";
      if (t.activation_pair && both_float && !opt.activation_pairs_off_reason.empty())
        why += ", and " + opt.activation_pairs_off_reason;
      return why + ": " + NotConstantReason(g, in(wi), "operand") + "; " + NotConstantReason(g, in(ai), "operand");
    }
    if (wa) std::swap(ai, wi);
  } else if (wa && !ww) {
    return "the constant operand is input " + std::to_string(ai) + " (only a constant input " + std::to_string(wi) +
           " is quantized, as the weight)";
  }
  c->activation_input = ai;
  c->weight_input = wi;
  int act = in(ai), wid = in(wi);
  if (!IsWeight(g, wid)) {
    return NotConstantReason(g, wid, "weight");
  }
  if (!IsFloatType(g.value(wid).dtype)) return std::string("weight is not a float tensor");
  if (act < 0 || g.value(act).IsConstant()) return std::string("activation input is a constant");
  if (!IsActivation(g, act)) return std::string("activation input is not a float tensor");
  const Tensor& wt = *g.value(wid).initializer;
  if (wt.rank() < t.weight_min_rank || (t.weight_max_rank >= 0 && wt.rank() > t.weight_max_rank))
    return "weight has rank " + std::to_string(wt.rank()) + " (expected " + RankRange(t) + ")";
  DOPT_ASSIGN_OR_RETURN(c->weight_axis, t.weight_axis(n, wi, wt.rank()));
  if (c->weight_axis < -1 || c->weight_axis >= wt.rank())
    return Internal(n.Describe() + ": weight axis " + std::to_string(c->weight_axis) + " for a rank " +
                    std::to_string(wt.rank()) + " weight");

  // A second weight (a recurrent op's R): constant, float, of the same rank limits.
  c->weight2_input = -1;
  if (t.second_weight_input >= 0) {
    const int w2 = in(t.second_weight_input);
    if (!opt.second_weights) {
      return opt.second_weights_off_reason.empty() ? std::string("its second weight cannot be quantized here")
                                                   : opt.second_weights_off_reason;
    }
    if (!IsWeight(g, w2)) return NotConstantReason(g, w2, "weight");
    if (!IsFloatType(g.value(w2).dtype)) return std::string("second weight is not a float tensor");
    const Tensor& w2t = *g.value(w2).initializer;
    if (w2t.rank() < t.weight_min_rank || (t.weight_max_rank >= 0 && w2t.rank() > t.weight_max_rank))
      return "second weight has rank " + std::to_string(w2t.rank()) + " (expected " + RankRange(t) + ")";
    DOPT_ASSIGN_OR_RETURN(c->weight2_axis, t.weight_axis(n, t.second_weight_input, w2t.rank()));
    c->weight2_input = t.second_weight_input;
  }

  // Bias: int32 when the op allows it for this 1-D float initializer; else it stays float, or
  // keeps the op in float when the op needs a constant bias.
  c->bias_input = -1;
  const int bid = in(t.bias_input);
  if (bid >= 0) {
    if (!IsWeight(g, bid)) {
      if (t.bias_must_be_constant) return NotConstantReason(g, bid, "bias");
    } else {
      const Tensor& b = *g.value(bid).initializer;
      bool ok = IsFloatType(b.dtype()) && b.rank() == 1 && t.bias_int32;
      if (ok) {
        DOPT_ASSIGN_OR_RETURN(ok, t.bias_int32(n, wt.shape(), c->weight_axis, b.shape()));
      }
      if (ok) c->bias_input = t.bias_input;
    }
  }
  return std::string();
}

}  // namespace

SelectedNames::SelectedNames(const Graph& g) {
  for (const Node& n : g.nodes) used_.insert(n.name);
}

bool SelectedNames::Take(Graph& g, int i) {
  Node& n = g.nodes[i];
  const bool rename = n.name.empty() || taken_.count(n.name);
  if (rename) {
    std::string base = (n.name.empty() ? n.op_type : n.name) + "_" + std::to_string(i);
    std::string name = base;
    for (int k = 1; used_.count(name); ++k) name = base + "_" + std::to_string(k);
    n.name = name;
    n.dirty = true;
    used_.insert(name);
  }
  taken_.insert(n.name);
  return rename;
}

StatusOr<int> MarkQuantizablePass::Run(Graph& g) {
  sel_->ops.clear();
  sel_->already_quantized.clear();
  int renamed = 0;
  SelectedNames names(g);
  for (int i = 0; i < (int)g.nodes.size(); ++i) {
    Node& n = g.nodes[i];
    if (!n.domain.empty() && n.domain != "ai.onnx") continue;
    const OpDef* d = OpDefOf(n);
    if (d && d->quant.role == QuantTraits::Role::kQuantized) sel_->already_quantized.push_back(n.op_type);
    if (!d || !d->quant.weighted()) continue;
    QuantCandidate c;
    DOPT_ASSIGN_OR_RETURN(std::string why, Check(g, n, d->quant, opt_, &c));
    renamed += names.Take(g, i);
    if (!why.empty()) {
      sel_->excluded.push_back({n.name, n.op_type, why});
      continue;
    }
    c.node = n.name;
    sel_->ops.push_back(c);
  }
  return renamed;
}

}  // namespace dopt
