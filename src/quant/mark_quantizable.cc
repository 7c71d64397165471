#include "quant/mark_quantizable.h"

#include <algorithm>
#include <set>

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

// Decides for one node; returns "" and fills `c` when it is quantizable, else the reason.
StatusOr<std::string> Check(const Graph& g, const Node& n, QuantCandidate* c) {
  const int nin = (int)n.inputs.size();
  auto in = [&](int i) { return i < nin ? n.inputs[i] : -1; };
  c->op_type = n.op_type;
  if (n.op_type == "Conv" || n.op_type == "ConvTranspose") {
    c->activation_input = 0;
    c->weight_input = 1;
    c->weight_axis = n.op_type == "Conv" ? 0 : 1;  // Conv W [Cout, Cin/g, k..]; ConvTranspose W [Cin, Cout/g, k..]
  } else if (n.op_type == "Gemm") {
    if (IsWeight(g, in(0)) && !IsWeight(g, in(1))) return std::string("the constant operand is A (only a constant B is quantized)");
    DOPT_ASSIGN_OR_RETURN(int64_t trans_b, n.GetInt("transB", 0));
    c->activation_input = 0;
    c->weight_input = 1;
    c->weight_axis = trans_b ? 0 : 1;  // B [N, K] with transB, else [K, N]
  } else if (n.op_type == "MatMul") {
    bool w1 = IsWeight(g, in(1)), w0 = IsWeight(g, in(0));
    if (w1 && !w0) {
      c->activation_input = 0;
      c->weight_input = 1;
    } else if (w0 && !w1) {
      c->activation_input = 1;
      c->weight_input = 0;
    } else if (w0 && w1) {
      return std::string("both operands are constants");
    } else {
      return std::string("no constant operand (activation x activation)");
    }
    const Value& w = g.value(in(c->weight_input));
    int r = (int)w.shape.size();
    // B [.., K, N]: channels along the last dim; constant A [.., M, K]: along M.
    c->weight_axis = r < 2 ? -1 : c->weight_input == 1 ? r - 1 : r - 2;
  } else {
    return std::string("not a quantized op type");
  }
  int act = in(c->activation_input), wid = in(c->weight_input);
  if (!IsWeight(g, wid)) {
    if (wid >= 0 && g.value(wid).IsConstant()) return std::string("weight is computed in the graph, not an initializer");
    return std::string("weight is not a constant");
  }
  if (!IsFloatType(g.value(wid).dtype)) return std::string("weight is not a float tensor");
  if (act < 0 || g.value(act).IsConstant()) return std::string("activation input is a constant");
  if (!IsActivation(g, act)) return std::string("activation input is not a float tensor");
  const Tensor& wt = *g.value(wid).initializer;
  if ((n.op_type == "Conv" || n.op_type == "ConvTranspose") && wt.rank() < 3) {
    return std::string("weight has rank ") + std::to_string(wt.rank()) + " (expected 3 or more)";
  }
  if (n.op_type == "Gemm" && wt.rank() != 2) return std::string("weight B is not 2-D");

  // Bias: int32 when it is a 1-D float initializer with one value per output channel.
  c->bias_input = -1;
  if (n.op_type != "MatMul" && in(2) >= 0) {
    int bid = in(2);
    if (!IsWeight(g, bid)) {
      if (n.op_type != "Gemm") return std::string("bias is not a constant");
    } else {
      const Tensor& b = *g.value(bid).initializer;
      bool ok = IsFloatType(b.dtype()) && b.rank() == 1;
      if (n.op_type == "Gemm") {
        DOPT_ASSIGN_OR_RETURN(float alpha, n.GetFloat("alpha", 1.f));
        DOPT_ASSIGN_OR_RETURN(float beta, n.GetFloat("beta", 1.f));
        int64_t cout = wt.dim(c->weight_axis);
        ok = ok && alpha == 1.f && beta == 1.f && b.dim(0) == cout;
      } else if (n.op_type == "Conv") {
        ok = ok && b.dim(0) == wt.dim(0);
      }
      if (ok) c->bias_input = 2;  // otherwise the bias stays float (Gemm's C may broadcast)
    }
  }
  return std::string();
}

}  // namespace

StatusOr<int> MarkQuantizablePass::Run(Graph& g) {
  sel_->ops.clear();
  int renamed = 0;
  std::set<std::string> used;
  for (const Node& n : g.nodes) used.insert(n.name);
  std::set<std::string> taken;  // names already given to a candidate
  for (int i = 0; i < (int)g.nodes.size(); ++i) {
    Node& n = g.nodes[i];
    if (!n.domain.empty() && n.domain != "ai.onnx") continue;
    if (n.op_type != "Conv" && n.op_type != "ConvTranspose" && n.op_type != "Gemm" && n.op_type != "MatMul") continue;
    QuantCandidate c;
    DOPT_ASSIGN_OR_RETURN(std::string why, Check(g, n, &c));
    if (n.name.empty() || taken.count(n.name)) {
      std::string base = n.name.empty() ? n.op_type + "_" + std::to_string(i) : n.name + "_" + std::to_string(i);
      std::string name = base;
      for (int k = 1; used.count(name); ++k) name = base + "_" + std::to_string(k);
      n.name = name;
      n.dirty = true;
      used.insert(name);
      ++renamed;
    }
    taken.insert(n.name);
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
