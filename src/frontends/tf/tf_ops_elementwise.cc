// TF constants, plumbing and elementwise ops (unary ops, binary ops, BiasAdd) — in NCHW
// whenever the input already has an NCHW form (tf_frontend.h).
#include <algorithm>
#include <cmath>

#include "frontends/tf/tf_op_util.h"

namespace dopt {

namespace {

using namespace tfop;  // NOLINT

// ---- constants and plumbing ----

Status Const(TfBuilder& b, const NodeDef& n) {
  auto* a = A(n, "value");
  if (!a || !a->has_tensor()) return InvalidArgument(DescribeTfNode(n) + ": has no 'value' tensor");
  auto t = TensorFromProto(a->tensor());
  if (!t.ok()) return t.status().WithContext(DescribeTfNode(n));
  b.SetResult(n.name(), 0, b.Const(n.name(), std::move(*t)));
  return Status::Ok();
}

Status IdentityOp(TfBuilder& b, const NodeDef& n) {
  const int k = std::max(1, b.NumDataInputs(n));
  for (int i = 0; i < k; ++i) {
    DOPT_ASSIGN_OR_RETURN(TfTensor x, b.Input(n, i));
    std::string out = TfBuilder::TensorName(n.name(), i);
    if (const Tensor* c = b.ConstOf(x.tf)) {  // Const -> Identity (weights' /read): a constant, at any size
      b.SetResult(n.name(), i, b.Const(out, *c));
      continue;
    }
    int id = b.Add1(i == 0 ? n.name() : Sub(n, "identity_" + std::to_string(i)), "Identity", {x.tf}, out);
    b.SetTensor(out, TfTensor{id, x.nchw});  // an NCHW form, if any, is shared
  }
  return Status::Ok();
}

Status NoOp(TfBuilder&, const NodeDef&) { return Status::Ok(); }

// ---- elementwise unary: stay in NCHW when the input has that form ----

template <typename Fn>
Status Unary(TfBuilder& b, const NodeDef& n, Fn fn) {
  DOPT_ASSIGN_OR_RETURN(TfTensor x, b.Input(n, 0));
  const bool nchw = x.nchw >= 0;
  DOPT_ASSIGN_OR_RETURN(int out, fn(nchw ? x.nchw : x.tf, OutName(n, nchw)));
  return Result(b, n, out, nchw);
}
template <const char* kOp>
Status Simple(TfBuilder& b, const NodeDef& n) {
  return Unary(b, n, [&](int x, const std::string& out) -> StatusOr<int> { return b.Add1(n.name(), kOp, {x}, out); });
}
constexpr char kRelu[] = "Relu", kSigmoid[] = "Sigmoid", kTanh[] = "Tanh", kSqrt[] = "Sqrt", kNeg[] = "Neg",
               kExp[] = "Exp", kErf[] = "Erf", kLog[] = "Log", kReciprocal[] = "Reciprocal", kFloor[] = "Floor";

Status Erfc(TfBuilder& b, const NodeDef& n) {  // 1 - erf(x) (Keras 3 gelu: 0.5 x erfc(-x / sqrt 2))
  return Unary(b, n, [&](int x, const std::string& out) -> StatusOr<int> {
    int e = b.Add1(Sub(n, "erf"), "Erf", {x}, Sub(n, "erf"));
    return b.Add1(n.name(), "Sub", {b.Const(Sub(n, "one"), Tensor::Scalar(1.f)), e}, out);
  });
}

Status Relu6(TfBuilder& b, const NodeDef& n) {
  return Unary(b, n, [&](int x, const std::string& out) -> StatusOr<int> {
    int lo = b.Const(Sub(n, "min"), Tensor::Scalar(0.f)), hi = b.Const(Sub(n, "max"), Tensor::Scalar(6.f));
    return b.Add1(n.name(), "Clip", {x, lo, hi}, out);
  });
}
Status LeakyRelu(TfBuilder& b, const NodeDef& n) {
  return Unary(b, n, [&](int x, const std::string& out) -> StatusOr<int> {
    return b.Add1(n.name(), "LeakyRelu", {x}, out, {{"alpha", AttrFloat(AttrF(n, "alpha", 0.2f))}});
  });
}
Status Elu(TfBuilder& b, const NodeDef& n) {  // relu(x) + min(exp(x) - 1, 0)
  return Unary(b, n, [&](int x, const std::string& out) -> StatusOr<int> {
    int e = b.Add1(Sub(n, "exp"), "Exp", {x}, Sub(n, "exp"));
    int em1 = b.Add1(Sub(n, "expm1"), "Sub", {e, b.Const(Sub(n, "one"), Tensor::Scalar(1.f))}, Sub(n, "expm1"));
    int neg = b.Add1(Sub(n, "neg"), "Min", {em1, b.Const(Sub(n, "zero"), Tensor::Scalar(0.f))}, Sub(n, "neg"));
    int pos = b.Add1(Sub(n, "relu"), "Relu", {x}, Sub(n, "relu"));
    return b.Add1(n.name(), "Add", {pos, neg}, out);
  });
}
Status Rsqrt(TfBuilder& b, const NodeDef& n) {
  return Unary(b, n, [&](int x, const std::string& out) -> StatusOr<int> {
    int s = b.Add1(Sub(n, "sqrt"), "Sqrt", {x}, Sub(n, "sqrt"));
    return b.Add1(n.name(), "Div", {b.Const(Sub(n, "one"), Tensor::Scalar(1.f)), s}, out);
  });
}
Status Square(TfBuilder& b, const NodeDef& n) {
  return Unary(b, n, [&](int x, const std::string& out) -> StatusOr<int> { return b.Add1(n.name(), "Mul", {x, x}, out); });
}
Status Abs(TfBuilder& b, const NodeDef& n) {  // max(x, -x)
  return Unary(b, n, [&](int x, const std::string& out) -> StatusOr<int> {
    int neg = b.Add1(Sub(n, "neg"), "Neg", {x}, Sub(n, "neg"));
    return b.Add1(n.name(), "Max", {x, neg}, out);
  });
}
Status CastOp(TfBuilder& b, const NodeDef& n) {
  auto* a = A(n, "DstT");
  if (!a) return InvalidArgument(DescribeTfNode(n) + ": has no DstT");
  DOPT_ASSIGN_OR_RETURN(DType to, FromTfType(a->type()));
  int64_t ot = OnnxType(to);
  if (!ot) return Unimplemented(DescribeTfNode(n) + std::string(": cast to ") + DTypeName(to) + " is not supported");
  return Unary(b, n, [&](int x, const std::string& out) -> StatusOr<int> {
    return b.Add1(n.name(), "Cast", {x}, out, {{"to", AttrInt(ot)}});
  });
}
Status Softmax(TfBuilder& b, const NodeDef& n) {
  DOPT_ASSIGN_OR_RETURN(int x, In(b, n, 0));
  return Result(b, n, b.Add1(n.name(), "Softmax", {x}, n.name(), {{"axis", AttrInt(-1)}}), false);
}

// ---- binary elementwise ----

// `c` (a constant broadcastable against an NHWC rank-4 tensor) as an NCHW initializer.
StatusOr<int> ConstToNchw(TfBuilder& b, const std::string& name, const Tensor& c) {
  if (c.rank() > 4) return -1;
  Shape s4(4 - c.rank(), 1);
  s4.insert(s4.end(), c.shape().begin(), c.shape().end());
  Tensor t = TransposeTensor(c.Reshaped(s4), {0, 3, 1, 2});
  return b.Const(name + "/dopt_nchw", std::move(t));
}

struct BinaryOperands {
  int x = -1, y = -1;
  bool nchw = false;
};
// The operands of a binary elementwise op: both NCHW, or NCHW and a constant, or TF layout.
StatusOr<BinaryOperands> PickOperands(TfBuilder& b, const NodeDef& n) {
  DOPT_ASSIGN_OR_RETURN(TfTensor x, b.Input(n, 0));
  DOPT_ASSIGN_OR_RETURN(TfTensor y, b.Input(n, 1));
  int xi = x.tf, yi = y.tf;
  bool nchw = false;
  if (x.nchw >= 0 && y.nchw >= 0) {
    xi = x.nchw, yi = y.nchw, nchw = true;
  } else if (x.nchw >= 0 && b.ConstOf(y.tf)) {
    DOPT_ASSIGN_OR_RETURN(int c, ConstToNchw(b, InName(n, 1), *b.ConstOf(y.tf)));
    if (c >= 0) xi = x.nchw, yi = c, nchw = true;
  } else if (y.nchw >= 0 && b.ConstOf(x.tf)) {
    DOPT_ASSIGN_OR_RETURN(int c, ConstToNchw(b, InName(n, 0), *b.ConstOf(x.tf)));
    if (c >= 0) xi = c, yi = y.nchw, nchw = true;
  }
  return BinaryOperands{xi, yi, nchw};
}
template <const char* kOp>
Status Binary(TfBuilder& b, const NodeDef& n) {
  DOPT_ASSIGN_OR_RETURN(BinaryOperands o, PickOperands(b, n));
  return Result(b, n, b.Add1(n.name(), kOp, {o.x, o.y}, OutName(n, o.nchw)), o.nchw);
}
constexpr char kAdd[] = "Add", kSub[] = "Sub", kMul[] = "Mul", kDiv[] = "Div", kMax[] = "Max", kMin[] = "Min",
               kPow[] = "Pow", kLess[] = "Less", kLessEq[] = "LessOrEqual", kGreater[] = "Greater",
               kGreaterEq[] = "GreaterOrEqual", kEqual[] = "Equal", kAnd[] = "And", kOr[] = "Or";

Status NotEqual(TfBuilder& b, const NodeDef& n) {
  DOPT_ASSIGN_OR_RETURN(BinaryOperands o, PickOperands(b, n));
  int e = b.Add1(Sub(n, "equal"), "Equal", {o.x, o.y}, Sub(n, "equal"));
  return Result(b, n, b.Add1(n.name(), "Not", {e}, OutName(n, o.nchw)), o.nchw);
}
constexpr char kNot[] = "Not";

// SelectV2(cond, x, y): Where with broadcasting (Keras 3 `take`: negative ids wrap).
Status SelectV2(TfBuilder& b, const NodeDef& n) {
  DOPT_ASSIGN_OR_RETURN(int c, In(b, n, 0));
  DOPT_ASSIGN_OR_RETURN(int x, In(b, n, 1));
  DOPT_ASSIGN_OR_RETURN(int y, In(b, n, 2));
  return Result(b, n, b.Add1(n.name(), "Where", {c, x, y}, n.name()), false);
}

// (x - y)^2: Sub then Mul, in NCHW when the operands allow (LayerNorm's variance).
Status SquaredDifference(TfBuilder& b, const NodeDef& n) {
  DOPT_ASSIGN_OR_RETURN(BinaryOperands o, PickOperands(b, n));
  int d = b.Add1(Sub(n, "diff"), "Sub", {o.x, o.y}, Sub(n, "diff"));
  return Result(b, n, b.Add1(n.name(), "Mul", {d, d}, OutName(n, o.nchw)), o.nchw);
}

Status BiasAdd(TfBuilder& b, const NodeDef& n) {
  DOPT_ASSIGN_OR_RETURN(TfTensor x, b.Input(n, 0));
  DOPT_ASSIGN_OR_RETURN(int bias, In(b, n, 1));
  const bool nhwc = Nhwc(n);
  const bool nchw = nhwc && x.nchw >= 0;
  int r = b.Rank(x.tf);
  if (nchw || (!nhwc && r > 2)) {  // channels first: the bias as [C,1,...]
    const Tensor* c = b.ConstOf(bias);
    if (!c) return Unimplemented(DescribeTfNode(n) + ": a non-constant bias in channels-first layout is not supported");
    Shape s = {c->numel()};
    for (int i = 2; i < (nchw ? 4 : r); ++i) s.push_back(1);
    bias = b.Const(InName(n, 1) + "/dopt_c11", c->Reshaped(s));
  }
  return Result(b, n, b.Add1(n.name(), "Add", {nchw ? x.nchw : x.tf, bias}, OutName(n, nchw)), nchw);
}

}  // namespace

void RegisterTfElementwiseOps(std::map<std::string, TfOpFn>* t) {
  t->insert({
      {"Const", Const},
      {"Identity", IdentityOp},
      {"IdentityN", IdentityOp},
      {"StopGradient", IdentityOp},
      {"Snapshot", IdentityOp},
      {"CheckNumerics", IdentityOp},
      {"PlaceholderWithDefault", IdentityOp},  // its default, unless named as an input (a cut)
      {"NoOp", NoOp},
      {"Relu", Simple<kRelu>},
      {"Relu6", Relu6},
      {"LeakyRelu", LeakyRelu},
      {"Elu", Elu},
      {"Sigmoid", Simple<kSigmoid>},
      {"Tanh", Simple<kTanh>},
      {"Sqrt", Simple<kSqrt>},
      {"Neg", Simple<kNeg>},
      {"Exp", Simple<kExp>},
      {"Erf", Simple<kErf>},
      {"Erfc", Erfc},
      {"Log", Simple<kLog>},
      {"Reciprocal", Simple<kReciprocal>},
      {"Inv", Simple<kReciprocal>},
      {"Floor", Simple<kFloor>},
      {"Rsqrt", Rsqrt},
      {"Square", Square},
      {"Abs", Abs},
      {"Cast", CastOp},
      {"Softmax", Softmax},
      {"Add", Binary<kAdd>},
      {"AddV2", Binary<kAdd>},
      {"Sub", Binary<kSub>},
      {"Mul", Binary<kMul>},
      {"RealDiv", Binary<kDiv>},
      {"Maximum", Binary<kMax>},
      {"Minimum", Binary<kMin>},
      {"Pow", Binary<kPow>},
      {"Less", Binary<kLess>},
      {"LessEqual", Binary<kLessEq>},
      {"Greater", Binary<kGreater>},
      {"GreaterEqual", Binary<kGreaterEq>},
      {"Equal", Binary<kEqual>},
      {"NotEqual", NotEqual},
      {"LogicalAnd", Binary<kAnd>},
      {"LogicalOr", Binary<kOr>},
      {"LogicalNot", Simple<kNot>},
      {"SelectV2", SelectV2},
      {"SquaredDifference", SquaredDifference},
      {"BiasAdd", BiasAdd},
  });
}

}  // namespace dopt
