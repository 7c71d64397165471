// The TF op table: one entry per TensorFlow op, each a small function that adds the IR nodes
// implementing it, following the layout and naming contract of tf_frontend.h.
#include <algorithm>
#include <cmath>
#include <map>

#include "frontends/tf/tf_builder.h"

namespace dopt {

namespace {

using NodeDef = dopt_tf::NodeDef;

const dopt_tf::AttrValue* A(const NodeDef& n, const char* k) {
  auto it = n.attr().find(k);
  return it == n.attr().end() ? nullptr : &it->second;
}
int64_t AttrI(const NodeDef& n, const char* k, int64_t def) { auto* a = A(n, k); return a ? a->i() : def; }
float AttrF(const NodeDef& n, const char* k, float def) { auto* a = A(n, k); return a ? a->f() : def; }
bool AttrB(const NodeDef& n, const char* k, bool def) { auto* a = A(n, k); return a ? a->b() : def; }
std::string AttrS(const NodeDef& n, const char* k, const std::string& def) { auto* a = A(n, k); return a ? a->s() : def; }
std::vector<int64_t> AttrList(const NodeDef& n, const char* k) {
  auto* a = A(n, k);
  if (!a) return {};
  return std::vector<int64_t>(a->list().i().begin(), a->list().i().end());
}
bool Nhwc(const NodeDef& n) { return AttrS(n, "data_format", "NHWC") == "NHWC"; }

std::string Norm(const std::string& in) {
  if (in.size() > 2 && in.compare(in.size() - 2, 2, ":0") == 0) return in.substr(0, in.size() - 2);
  return in;
}
// The normalised tensor name of data input i.
std::string InName(const NodeDef& n, int i) {
  int c = 0;
  for (const std::string& s : n.input()) {
    if (s.empty() || s[0] == '^') continue;
    if (c++ == i) return Norm(s);
  }
  return "";
}
std::string Sub(const NodeDef& n, const std::string& suffix) { return n.name() + "/dopt_" + suffix; }

StatusOr<int> In(TfBuilder& b, const NodeDef& n, int i) {
  DOPT_ASSIGN_OR_RETURN(TfTensor t, b.Input(n, i));
  return t.tf;
}
StatusOr<const Tensor*> ConstIn(TfBuilder& b, const NodeDef& n, int i, const char* what) {
  DOPT_ASSIGN_OR_RETURN(int id, In(b, n, i));
  const Tensor* t = b.ConstOf(id);
  if (!t) return Unimplemented(DescribeTfNode(n) + ": " + what + " (input " + std::to_string(i) + ") must be a constant");
  return t;
}
StatusOr<std::vector<int64_t>> ConstInts(TfBuilder& b, const NodeDef& n, int i, const char* what) {
  DOPT_ASSIGN_OR_RETURN(const Tensor* t, ConstIn(b, n, i, what));
  if (!IsInteger(t->dtype())) return InvalidArgument(DescribeTfNode(n) + ": " + what + " must be integers");
  return t->ToInt64Vector();
}
// An int64 version of value `id` (a Cast node when it is another integer type).
int ToI64(TfBuilder& b, const NodeDef& n, int id, const std::string& suffix) {
  if (b.V(id).dtype == DType::kInt64) return id;
  return b.Add1(Sub(n, suffix), "Cast", {id}, Sub(n, suffix), {{"to", AttrInt(7)}});
}
int64_t OnnxType(DType t) {
  switch (t) {
    case DType::kFloat32: return 1;
    case DType::kUInt8: return 2;
    case DType::kInt8: return 3;
    case DType::kInt16: return 5;
    case DType::kInt32: return 6;
    case DType::kInt64: return 7;
    case DType::kBool: return 9;
    case DType::kFloat16: return 10;
    case DType::kBFloat16: return 16;
    default: return 0;
  }
}
Status Result(TfBuilder& b, const NodeDef& n, int vid, bool nchw) {
  if (nchw) return b.SetNchwResult(n.name(), 0, vid);
  b.SetResult(n.name(), 0, vid);
  return Status::Ok();
}
std::string OutName(const NodeDef& n, bool nchw) { return nchw ? n.name() + "/dopt_nchw" : n.name(); }

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
               kExp[] = "Exp";

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

template <const char* kOp>
Status Binary(TfBuilder& b, const NodeDef& n) {
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
  return Result(b, n, b.Add1(n.name(), kOp, {xi, yi}, OutName(n, nchw)), nchw);
}
constexpr char kAdd[] = "Add", kSub[] = "Sub", kMul[] = "Mul", kDiv[] = "Div", kMax[] = "Max", kMin[] = "Min";

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

// ---- convolution, pooling, batch norm (computed in NCHW) ----

struct Spatial {
  std::vector<int64_t> strides = {1, 1}, dilations = {1, 1}, pads = {0, 0, 0, 0};
};
// strides / dilations / padding of a 2-D conv or pool; `k` = kernel [kh, kw]; in = [h, w] (-1: unknown).
StatusOr<Spatial> GetSpatial(const NodeDef& n, const std::vector<int64_t>& k, const std::vector<int64_t>& in,
                             const char* strides_key) {
  Spatial s;
  const bool nhwc = Nhwc(n);
  const int h = nhwc ? 1 : 2, w = nhwc ? 2 : 3;
  auto st = AttrList(n, strides_key);
  if (!st.empty()) {
    if (st.size() != 4) return InvalidArgument(DescribeTfNode(n) + ": " + strides_key + " must have 4 values");
    s.strides = {st[h], st[w]};
  }
  auto dl = AttrList(n, "dilations");
  if (!dl.empty()) {
    if (dl.size() != 4) return InvalidArgument(DescribeTfNode(n) + ": dilations must have 4 values");
    s.dilations = {dl[h], dl[w]};
  }
  for (int64_t v : s.strides) if (v <= 0) return InvalidArgument(DescribeTfNode(n) + ": strides must be positive");
  for (int64_t v : s.dilations) if (v <= 0) return InvalidArgument(DescribeTfNode(n) + ": dilations must be positive");
  std::string pad = AttrS(n, "padding", "VALID");
  if (pad == "SAME") {
    for (int d = 0; d < 2; ++d) {
      if (in[d] < 0) return Unimplemented(DescribeTfNode(n) + ": SAME padding needs known spatial dims (give --input_shape)");
      auto [bef, aft] = TfSamePads(in[d], k[d], s.strides[d], s.dilations[d]);
      s.pads[d] = bef;
      s.pads[d + 2] = aft;
    }
  } else if (pad == "EXPLICIT") {
    auto e = AttrList(n, "explicit_paddings");
    if (e.size() != 8) return InvalidArgument(DescribeTfNode(n) + ": explicit_paddings must have 8 values");
    s.pads = {e[2 * h], e[2 * w], e[2 * h + 1], e[2 * w + 1]};
    for (int64_t v : s.pads) if (v < 0) return InvalidArgument(DescribeTfNode(n) + ": negative explicit_paddings");
  } else if (pad != "VALID") {
    return InvalidArgument(DescribeTfNode(n) + ": padding '" + pad + "' is not SAME, VALID or EXPLICIT");
  }
  return s;
}
// Input value in channels-first layout (NCHW form for NHWC nodes) and its [h, w].
StatusOr<std::pair<int, std::vector<int64_t>>> ChannelsFirstInput(TfBuilder& b, const NodeDef& n, int i) {
  DOPT_ASSIGN_OR_RETURN(TfTensor x, b.Input(n, i));
  int id = x.tf;
  if (Nhwc(n)) {
    DOPT_ASSIGN_OR_RETURN(id, b.Nchw(InName(n, i)));
  }
  if (b.Rank(id) != 4) return InvalidArgument(DescribeTfNode(n) + ": input must have rank 4");
  return std::make_pair(id, std::vector<int64_t>{b.V(id).shape[2], b.V(id).shape[3]});
}

// kind: 0 Conv2D, 1 DepthwiseConv2dNative
template <int kKind>
Status ConvOp(TfBuilder& b, const NodeDef& n) {
  DOPT_ASSIGN_OR_RETURN(auto xin, ChannelsFirstInput(b, n, 0));
  DOPT_ASSIGN_OR_RETURN(const Tensor* f, ConstIn(b, n, 1, "the filter"));
  if (f->rank() != 4) return InvalidArgument(DescribeTfNode(n) + ": filter must have rank 4, has shape " + ShapeToString(f->shape()));
  const int64_t kh = f->dim(0), kw = f->dim(1), ci = f->dim(2), m = f->dim(3);
  const int64_t c = b.V(xin.first).shape[1];
  Tensor w = TransposeTensor(*f, {3, 2, 0, 1});  // HWIO -> OIHW
  int64_t group = 1;
  if (kKind == 1) {  // HWCM -> [C*M, 1, H, W]
    w = TransposeTensor(*f, {2, 3, 0, 1}).Reshaped({ci * m, 1, kh, kw});
    group = ci;
  } else if (c > 0 && ci > 0 && c != ci) {
    if (c % ci) return InvalidArgument(DescribeTfNode(n) + ": input has " + std::to_string(c) + " channels, filter " + std::to_string(ci));
    group = c / ci;
  }
  if (kKind == 1 && c > 0 && c != ci) return InvalidArgument(DescribeTfNode(n) + ": input has " + std::to_string(c) + " channels, filter " + std::to_string(ci));
  DOPT_ASSIGN_OR_RETURN(Spatial s, GetSpatial(n, {kh, kw}, xin.second, "strides"));
  int wid = b.Const(InName(n, 1) + "/dopt_oihw", std::move(w));
  const bool nhwc = Nhwc(n);
  int out = b.Add1(n.name(), "Conv", {xin.first, wid}, OutName(n, nhwc),
                   {{"kernel_shape", AttrInts({kh, kw})}, {"strides", AttrInts(s.strides)},
                    {"dilations", AttrInts(s.dilations)}, {"pads", AttrInts(s.pads)}, {"group", AttrInt(group)}});
  return Result(b, n, out, nhwc);
}

Status Conv2DBackpropInput(TfBuilder& b, const NodeDef& n) {
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> sizes, ConstInts(b, n, 0, "input_sizes"));
  DOPT_ASSIGN_OR_RETURN(const Tensor* f, ConstIn(b, n, 1, "the filter"));
  DOPT_ASSIGN_OR_RETURN(auto xin, ChannelsFirstInput(b, n, 2));
  if (f->rank() != 4 || sizes.size() != 4) return InvalidArgument(DescribeTfNode(n) + ": filter and input_sizes must have rank 4 / 4 values");
  const bool nhwc = Nhwc(n);
  std::vector<int64_t> out_hw = {sizes[nhwc ? 1 : 2], sizes[nhwc ? 2 : 3]};
  const int64_t kh = f->dim(0), kw = f->dim(1);
  DOPT_ASSIGN_OR_RETURN(Spatial s, GetSpatial(n, {kh, kw}, out_hw, "strides"));
  std::vector<int64_t> opad(2);
  for (int d = 0; d < 2; ++d) {
    if (xin.second[d] < 0) return Unimplemented(DescribeTfNode(n) + ": needs known spatial dims");
    int64_t full = (xin.second[d] - 1) * s.strides[d] + ((d ? kw : kh) - 1) * s.dilations[d] + 1 -
                   s.pads[d] - s.pads[d + 2];
    opad[d] = out_hw[d] - full;
    if (opad[d] < 0 || opad[d] >= std::max(s.strides[d], s.dilations[d])) {
      return InvalidArgument(DescribeTfNode(n) + ": input_sizes do not match the output of the forward convolution");
    }
  }
  int wid = b.Const(InName(n, 1) + "/dopt_oihw", TransposeTensor(*f, {3, 2, 0, 1}));  // HWOI -> IOHW
  int out = b.Add1(n.name(), "ConvTranspose", {xin.first, wid}, OutName(n, nhwc),
                   {{"kernel_shape", AttrInts({kh, kw})}, {"strides", AttrInts(s.strides)},
                    {"dilations", AttrInts(s.dilations)}, {"pads", AttrInts(s.pads)},
                    {"output_padding", AttrInts(opad)}});
  return Result(b, n, out, nhwc);
}

template <bool kMaxPool>
Status Pool(TfBuilder& b, const NodeDef& n) {
  DOPT_ASSIGN_OR_RETURN(auto xin, ChannelsFirstInput(b, n, 0));
  auto ks = AttrList(n, "ksize");
  if (ks.size() != 4) return InvalidArgument(DescribeTfNode(n) + ": ksize must have 4 values");
  const bool nhwc = Nhwc(n);
  std::vector<int64_t> k = {ks[nhwc ? 1 : 2], ks[nhwc ? 2 : 3]};
  if ((nhwc ? ks[0] * ks[3] : ks[0] * ks[1]) != 1) return Unimplemented(DescribeTfNode(n) + ": pooling over batch or channels");
  for (int64_t v : k) if (v <= 0) return InvalidArgument(DescribeTfNode(n) + ": ksize must be positive");
  DOPT_ASSIGN_OR_RETURN(Spatial s, GetSpatial(n, k, xin.second, "strides"));
  std::vector<std::pair<std::string, Attribute>> attrs = {
      {"kernel_shape", AttrInts(k)}, {"strides", AttrInts(s.strides)}, {"pads", AttrInts(s.pads)}};
  if (!kMaxPool) attrs.push_back({"count_include_pad", AttrInt(0)});  // TF averages the valid taps only
  int out = b.Add1(n.name(), kMaxPool ? "MaxPool" : "AveragePool", {xin.first}, OutName(n, nhwc), attrs);
  return Result(b, n, out, nhwc);
}

Status FusedBatchNorm(TfBuilder& b, const NodeDef& n) {
  if (AttrB(n, "is_training", true) && A(n, "is_training")) {
    return Unimplemented(DescribeTfNode(n) + ": is_training=true (batch statistics) is not supported; freeze the graph for inference");
  }
  DOPT_ASSIGN_OR_RETURN(auto xin, ChannelsFirstInput(b, n, 0));
  std::vector<int> ins = {xin.first};
  for (int i = 1; i <= 4; ++i) {
    DOPT_ASSIGN_OR_RETURN(int id, In(b, n, i));
    ins.push_back(id);
  }
  const bool nhwc = Nhwc(n);
  int out = b.Add1(n.name(), "BatchNormalization", ins, OutName(n, nhwc),
                   {{"epsilon", AttrFloat(AttrF(n, "epsilon", 1e-4f))}});
  return Result(b, n, out, nhwc);
}

// ---- matrix products ----

StatusOr<int> SwapLast2(TfBuilder& b, const NodeDef& n, int i, const std::string& suffix) {
  DOPT_ASSIGN_OR_RETURN(int id, In(b, n, i));
  int r = b.Rank(id);
  if (r < 2) return InvalidArgument(DescribeTfNode(n) + ": transposed operand needs a known rank >= 2");
  std::vector<int64_t> perm(r);
  for (int d = 0; d < r; ++d) perm[d] = d;
  std::swap(perm[r - 1], perm[r - 2]);
  if (const Tensor* c = b.ConstOf(id)) {
    std::vector<int> p(perm.begin(), perm.end());
    return b.Const(InName(n, i) + "/dopt_t", TransposeTensor(*c, p));
  }
  return b.Add1(Sub(n, suffix), "Transpose", {id}, Sub(n, suffix), {{"perm", AttrInts(perm)}});
}
Status MatMulOp(TfBuilder& b, const NodeDef& n) {
  const bool batch = n.op() != "MatMul";
  const bool ta = AttrB(n, batch ? "adj_x" : "transpose_a", false), tb = AttrB(n, batch ? "adj_y" : "transpose_b", false);
  int x, y;
  if (ta) { DOPT_ASSIGN_OR_RETURN(x, SwapLast2(b, n, 0, "ta")); } else { DOPT_ASSIGN_OR_RETURN(x, In(b, n, 0)); }
  if (tb) { DOPT_ASSIGN_OR_RETURN(y, SwapLast2(b, n, 1, "tb")); } else { DOPT_ASSIGN_OR_RETURN(y, In(b, n, 1)); }
  return Result(b, n, b.Add1(n.name(), "MatMul", {x, y}, n.name()), false);
}

// ---- reductions ----

template <const char* kOp>
Status Reduce(TfBuilder& b, const NodeDef& n) {
  DOPT_ASSIGN_OR_RETURN(TfTensor x, b.Input(n, 0));
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> axes, ConstInts(b, n, 1, "reduction_indices"));
  const bool keep = AttrB(n, "keep_dims", false);
  int r = b.Rank(x.tf);
  bool nchw = x.nchw >= 0 && r == 4;
  bool out_nchw = false;
  if (nchw) {
    static const int64_t kToNchw[4] = {0, 2, 3, 1};
    std::vector<bool> red(4, false);
    for (int64_t& a : axes) {
      if (a < -4 || a > 3) return InvalidArgument(DescribeTfNode(n) + ": axis out of range");
      a = kToNchw[a < 0 ? a + 4 : a];
      red[a] = true;
    }
    if (keep) {
      out_nchw = true;
    } else {  // the kept dims must come out in TF's order
      std::vector<int> nhwc_order, nchw_order;
      for (int d : {0, 2, 3, 1}) if (!red[d]) nhwc_order.push_back(d);
      for (int d : {0, 1, 2, 3}) if (!red[d]) nchw_order.push_back(d);
      if (nhwc_order != nchw_order) {
        nchw = false;
        DOPT_ASSIGN_OR_RETURN(axes, ConstInts(b, n, 1, "reduction_indices"));
      }
    }
  }
  int ax = b.ConstI64(Sub(n, "axes"), axes);
  int out = b.Add1(n.name(), kOp, {nchw ? x.nchw : x.tf, ax}, OutName(n, out_nchw), {{"keepdims", AttrInt(keep ? 1 : 0)}});
  return Result(b, n, out, out_nchw);
}
constexpr char kReduceMean[] = "ReduceMean", kReduceSum[] = "ReduceSum", kReduceMax[] = "ReduceMax";

// ---- padding ----

Status PadOp(TfBuilder& b, const NodeDef& n) {
  DOPT_ASSIGN_OR_RETURN(TfTensor x, b.Input(n, 0));
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> p, ConstInts(b, n, 1, "paddings"));
  const int r = (int)p.size() / 2;
  if (p.size() % 2 || (b.Rank(x.tf) >= 0 && b.Rank(x.tf) != r)) return InvalidArgument(DescribeTfNode(n) + ": paddings must have shape [rank, 2]");
  std::string mode = "constant";
  if (n.op() == "MirrorPad") {
    std::string m = AttrS(n, "mode", "REFLECT");
    if (m != "REFLECT") return Unimplemented(DescribeTfNode(n) + ": MirrorPad mode " + m + " is not supported (REFLECT is)");
    mode = "reflect";
  }
  const bool nchw = x.nchw >= 0 && r == 4;
  std::vector<int> order(r);
  for (int d = 0; d < r; ++d) order[d] = d;
  if (nchw) order = {0, 3, 1, 2};
  std::vector<int64_t> pads(2 * r);
  for (int d = 0; d < r; ++d) {
    pads[d] = p[2 * order[d]];
    pads[d + r] = p[2 * order[d] + 1];
  }
  std::vector<int> ins = {nchw ? x.nchw : x.tf, b.ConstI64(Sub(n, "pads"), pads)};
  if (n.op() == "PadV2") {
    DOPT_ASSIGN_OR_RETURN(int cv, In(b, n, 2));
    ins.push_back(cv);
  }
  return Result(b, n, b.Add1(n.name(), "Pad", ins, OutName(n, nchw), {{"mode", AttrStr(mode)}}), nchw);
}

// ---- shapes and data movement ----

Status ConcatV2(TfBuilder& b, const NodeDef& n) {
  const int k = b.NumDataInputs(n) - 1;
  if (k < 1) return InvalidArgument(DescribeTfNode(n) + ": needs inputs and an axis");
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> ax, ConstInts(b, n, k, "axis"));
  if (ax.size() != 1) return InvalidArgument(DescribeTfNode(n) + ": axis must be a scalar");
  std::vector<TfTensor> xs;
  bool all_nchw = true;
  for (int i = 0; i < k; ++i) {
    DOPT_ASSIGN_OR_RETURN(TfTensor t, b.Input(n, i));
    xs.push_back(t);
    all_nchw = all_nchw && t.nchw >= 0;
  }
  const bool nchw = all_nchw && (ax[0] == 3 || ax[0] == -1);
  std::vector<int> ins;
  for (auto& t : xs) ins.push_back(nchw ? t.nchw : t.tf);
  return Result(b, n, b.Add1(n.name(), "Concat", ins, OutName(n, nchw), {{"axis", AttrInt(nchw ? 1 : ax[0])}}), nchw);
}

Status Reshape(TfBuilder& b, const NodeDef& n) {
  DOPT_ASSIGN_OR_RETURN(int x, In(b, n, 0));
  DOPT_ASSIGN_OR_RETURN(int s, In(b, n, 1));
  s = ToI64(b, n, s, "shape");
  return Result(b, n, b.Add1(n.name(), "Reshape", {x, s}, n.name(), {{"allowzero", AttrInt(1)}}), false);
}
Status Squeeze(TfBuilder& b, const NodeDef& n) {
  DOPT_ASSIGN_OR_RETURN(int x, In(b, n, 0));
  auto axes = AttrList(n, "squeeze_dims");
  std::vector<int> ins = {x};
  if (!axes.empty()) ins.push_back(b.ConstI64(Sub(n, "axes"), axes));
  return Result(b, n, b.Add1(n.name(), "Squeeze", ins, n.name()), false);
}
Status ExpandDims(TfBuilder& b, const NodeDef& n) {
  DOPT_ASSIGN_OR_RETURN(int x, In(b, n, 0));
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> ax, ConstInts(b, n, 1, "dim"));
  return Result(b, n, b.Add1(n.name(), "Unsqueeze", {x, b.ConstI64(Sub(n, "axes"), ax)}, n.name()), false);
}
Status TransposeOp(TfBuilder& b, const NodeDef& n) {
  DOPT_ASSIGN_OR_RETURN(int x, In(b, n, 0));
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> perm, ConstInts(b, n, 1, "perm"));
  return Result(b, n, b.Add1(n.name(), "Transpose", {x}, n.name(), {{"perm", AttrInts(perm)}}), false);
}
std::vector<std::string> OutNames(const NodeDef& n, int k) {
  std::vector<std::string> o;
  for (int i = 0; i < k; ++i) o.push_back(TfBuilder::TensorName(n.name(), i));
  return o;
}
Status SplitOp(TfBuilder& b, const NodeDef& n) {
  const bool v = n.op() == "SplitV";
  const int64_t k = AttrI(n, "num_split", 0);
  if (k < 1 || k > 4096) return InvalidArgument(DescribeTfNode(n) + ": num_split must be in 1..4096");
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> ax, ConstInts(b, n, v ? 2 : 0, "axis"));
  DOPT_ASSIGN_OR_RETURN(int x, In(b, n, v ? 0 : 1));
  if (ax.size() != 1) return InvalidArgument(DescribeTfNode(n) + ": axis must be a scalar");
  std::vector<int> ins = {x};
  std::vector<std::pair<std::string, Attribute>> attrs = {{"axis", AttrInt(ax[0])}};
  if (v) {
    DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> sz, ConstInts(b, n, 1, "size_splits"));
    auto neg = std::find(sz.begin(), sz.end(), -1);
    if (neg != sz.end()) {
      int r = b.Rank(x);
      int64_t a = ax[0] < 0 ? ax[0] + r : ax[0];
      if (r < 0 || a < 0 || a >= r || b.V(x).shape[a] < 0) return Unimplemented(DescribeTfNode(n) + ": size_splits -1 needs a known dim");
      int64_t rest = b.V(x).shape[a];
      for (int64_t s : sz) if (s != -1) rest -= s;
      *neg = rest;
    }
    ins.push_back(b.ConstI64(Sub(n, "split"), sz));
  } else {
    attrs.push_back({"num_outputs", AttrInt(k)});
  }
  auto outs = b.AddNode(n.name(), "Split", ins, OutNames(n, (int)k), attrs);
  for (int i = 0; i < (int)k; ++i) b.SetResult(n.name(), i, outs[i]);
  return Status::Ok();
}
Status ShapeOp(TfBuilder& b, const NodeDef& n) {
  DOPT_ASSIGN_OR_RETURN(int x, In(b, n, 0));
  DType to = DType::kInt32;
  if (auto* a = A(n, "out_type")) { DOPT_ASSIGN_OR_RETURN(to, FromTfType(a->type())); }
  int s = b.Add1(Sub(n, "shape"), "Shape", {x}, Sub(n, "shape"));
  return Result(b, n, b.Add1(n.name(), "Cast", {s}, n.name(), {{"to", AttrInt(OnnxType(to))}}), false);
}
Status Pack(TfBuilder& b, const NodeDef& n) {
  const int k = b.NumDataInputs(n);
  int64_t axis = AttrI(n, "axis", 0);
  std::vector<int> ins;
  for (int i = 0; i < k; ++i) {
    DOPT_ASSIGN_OR_RETURN(int x, In(b, n, i));
    int r = b.Rank(x);
    int64_t a = axis < 0 ? axis + (r < 0 ? 0 : r) + 1 : axis;
    if (r < 0 && axis < 0) return Unimplemented(DescribeTfNode(n) + ": negative axis needs known ranks");
    std::string nm = Sub(n, "unsqueeze_" + std::to_string(i));
    ins.push_back(b.Add1(nm, "Unsqueeze", {x, b.ConstI64(Sub(n, "axes"), {a})}, nm));
    axis = a;
  }
  if (k < 1) return InvalidArgument(DescribeTfNode(n) + ": has no inputs");
  return Result(b, n, b.Add1(n.name(), "Concat", ins, n.name(), {{"axis", AttrInt(axis)}}), false);
}
Status Unpack(TfBuilder& b, const NodeDef& n) {
  DOPT_ASSIGN_OR_RETURN(int x, In(b, n, 0));
  const int64_t k = AttrI(n, "num", 0), axis = AttrI(n, "axis", 0);
  if (k < 1 || k > 4096) return InvalidArgument(DescribeTfNode(n) + ": num must be in 1..4096");
  std::vector<std::string> parts;
  for (int i = 0; i < k; ++i) parts.push_back(Sub(n, "part_" + std::to_string(i)));
  auto outs = b.AddNode(Sub(n, "split"), "Split", {x}, parts, {{"axis", AttrInt(axis)}, {"num_outputs", AttrInt(k)}});
  int ax = b.ConstI64(Sub(n, "axes"), {axis});
  for (int i = 0; i < k; ++i) {
    std::string out = TfBuilder::TensorName(n.name(), i);
    b.SetResult(n.name(), i, b.Add1(i ? Sub(n, "squeeze_" + std::to_string(i)) : n.name(), "Squeeze", {outs[i], ax}, out));
  }
  return Status::Ok();
}
Status Fill(TfBuilder& b, const NodeDef& n) {
  DOPT_ASSIGN_OR_RETURN(int dims, In(b, n, 0));
  DOPT_ASSIGN_OR_RETURN(int val, In(b, n, 1));
  dims = ToI64(b, n, dims, "dims");
  if (const Tensor* c = b.ConstOf(val)) {
    if (c->numel() != 1) return InvalidArgument(DescribeTfNode(n) + ": value must be a scalar");
    return Result(b, n, b.Add1(n.name(), "ConstantOfShape", {dims}, n.name(), {{"value", AttrTensor(c->Reshaped({1}))}}), false);
  }
  Tensor z(b.V(val).dtype == DType::kUndefined ? DType::kFloat32 : b.V(val).dtype, {1});
  int zeros = b.Add1(Sub(n, "zeros"), "ConstantOfShape", {dims}, Sub(n, "zeros"), {{"value", AttrTensor(z)}});
  return Result(b, n, b.Add1(n.name(), "Add", {zeros, val}, n.name()), false);
}

// StridedSlice with constant begin/end/strides: Slice, then Squeeze (shrink_axis) and
// Unsqueeze (new_axis), following TF's sparse -> dense mask expansion.
Status StridedSlice(TfBuilder& b, const NodeDef& n) {
  DOPT_ASSIGN_OR_RETURN(int x, In(b, n, 0));
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> begin, ConstInts(b, n, 1, "begin"));
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> end, ConstInts(b, n, 2, "end"));
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> strides, ConstInts(b, n, 3, "strides"));
  const int r = b.Rank(x);
  if (r < 0) return Unimplemented(DescribeTfNode(n) + ": needs an input of known rank");
  const size_t sp = begin.size();
  if (end.size() != sp || strides.size() != sp || sp > 64) return InvalidArgument(DescribeTfNode(n) + ": begin/end/strides sizes differ");
  const int64_t bm = AttrI(n, "begin_mask", 0), em = AttrI(n, "end_mask", 0), el = AttrI(n, "ellipsis_mask", 0),
                na = AttrI(n, "new_axis_mask", 0), sh = AttrI(n, "shrink_axis_mask", 0);
  int n_real = 0;  // sparse entries that consume an input dim
  for (size_t i = 0; i < sp; ++i)
    if (!(el >> i & 1) && !(na >> i & 1)) ++n_real;
  std::vector<int64_t> starts, ends, axes, steps, squeeze, unsqueeze;
  int dim = 0, out_pos = 0;  // dims after the last entry are taken whole (implicit ellipsis)
  for (size_t i = 0; i < sp; ++i) {
    if (el >> i & 1) {
      int take = r - n_real;
      if (take < 0) return InvalidArgument(DescribeTfNode(n) + ": too many slice dims for rank " + std::to_string(r));
      dim += take;
      out_pos += take;
      continue;
    }
    if (na >> i & 1) {
      unsqueeze.push_back(out_pos++);
      continue;
    }
    if (dim >= r) return InvalidArgument(DescribeTfNode(n) + ": slice has more dims than the input's " + std::to_string(r));
    const int64_t s = strides[i];
    if (s == 0) return InvalidArgument(DescribeTfNode(n) + ": stride 0");
    if (sh >> i & 1) {
      int64_t bgn = begin[i];
      starts.push_back(bgn);
      ends.push_back(bgn == -1 ? INT64_MAX : bgn + 1);
      axes.push_back(dim);
      steps.push_back(1);
      squeeze.push_back(dim);
      ++dim;
      continue;
    }
    const int64_t lo = s > 0 ? 0 : INT64_MAX, hi = s > 0 ? INT64_MAX : INT64_MIN;
    starts.push_back(bm >> i & 1 ? lo : begin[i]);
    ends.push_back(em >> i & 1 ? hi : end[i]);
    axes.push_back(dim);
    steps.push_back(s);
    ++dim;
    ++out_pos;
  }
  int cur = x;
  const bool more = !squeeze.empty() || !unsqueeze.empty();
  if (!axes.empty()) {
    std::string nm = more ? Sub(n, "slice") : n.name();
    cur = b.Add1(nm, "Slice",
                 {cur, b.ConstI64(Sub(n, "starts"), starts), b.ConstI64(Sub(n, "ends"), ends),
                  b.ConstI64(Sub(n, "slice_axes"), axes), b.ConstI64(Sub(n, "steps"), steps)},
                 more ? nm : n.name());
  }
  if (!squeeze.empty()) {
    std::string nm = unsqueeze.empty() ? n.name() : Sub(n, "squeeze");
    cur = b.Add1(nm, "Squeeze", {cur, b.ConstI64(Sub(n, "squeeze_axes"), squeeze)}, nm);
  }
  if (!unsqueeze.empty()) {
    cur = b.Add1(n.name(), "Unsqueeze", {cur, b.ConstI64(Sub(n, "unsqueeze_axes"), unsqueeze)}, n.name());
  }
  if (cur == x) cur = b.Add1(n.name(), "Identity", {x}, n.name());
  return Result(b, n, cur, false);
}

template <bool kBilinear>
Status ResizeOp(TfBuilder& b, const NodeDef& n) {
  DOPT_ASSIGN_OR_RETURN(TfTensor x0, b.Input(n, 0));
  DOPT_ASSIGN_OR_RETURN(int x, b.Nchw(InName(n, 0)));
  (void)x0;
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> size, ConstInts(b, n, 1, "size"));
  if (size.size() != 2) return InvalidArgument(DescribeTfNode(n) + ": size must have 2 values");
  const Shape& s = b.V(x).shape;
  if (s[0] < 0 || s[1] < 0) return Unimplemented(DescribeTfNode(n) + ": needs known batch and channels");
  const bool ac = AttrB(n, "align_corners", false), hp = AttrB(n, "half_pixel_centers", false);
  if (ac && hp) return InvalidArgument(DescribeTfNode(n) + ": align_corners and half_pixel_centers are exclusive");
  std::string coord = ac ? "align_corners" : hp ? (kBilinear ? "half_pixel" : "tf_half_pixel_for_nn") : "asymmetric";
  std::vector<std::pair<std::string, Attribute>> attrs = {{"mode", AttrStr(kBilinear ? "linear" : "nearest")},
                                                          {"coordinate_transformation_mode", AttrStr(coord)}};
  if (!kBilinear) attrs.push_back({"nearest_mode", AttrStr(ac ? "round_prefer_ceil" : "floor")});
  int sizes = b.ConstI64(Sub(n, "sizes"), {s[0], s[1], size[0], size[1]});
  int out = b.Add1(n.name(), "Resize", {x, -1, -1, sizes}, OutName(n, true), attrs);
  return Result(b, n, out, true);
}

const std::map<std::string, TfOpFn>& Table() {
  static const std::map<std::string, TfOpFn> t = {
      {"Const", Const},
      {"Identity", IdentityOp},
      {"IdentityN", IdentityOp},
      {"StopGradient", IdentityOp},
      {"Snapshot", IdentityOp},
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
      {"BiasAdd", BiasAdd},
      {"Conv2D", ConvOp<0>},
      {"DepthwiseConv2dNative", ConvOp<1>},
      {"Conv2DBackpropInput", Conv2DBackpropInput},
      {"MaxPool", Pool<true>},
      {"AvgPool", Pool<false>},
      {"FusedBatchNorm", FusedBatchNorm},
      {"FusedBatchNormV2", FusedBatchNorm},
      {"FusedBatchNormV3", FusedBatchNorm},
      {"MatMul", MatMulOp},
      {"BatchMatMul", MatMulOp},
      {"BatchMatMulV2", MatMulOp},
      {"Mean", Reduce<kReduceMean>},
      {"Sum", Reduce<kReduceSum>},
      {"Max", Reduce<kReduceMax>},
      {"Pad", PadOp},
      {"PadV2", PadOp},
      {"MirrorPad", PadOp},
      {"ConcatV2", ConcatV2},
      {"Reshape", Reshape},
      {"Squeeze", Squeeze},
      {"ExpandDims", ExpandDims},
      {"Transpose", TransposeOp},
      {"Split", SplitOp},
      {"SplitV", SplitOp},
      {"Shape", ShapeOp},
      {"StridedSlice", StridedSlice},
      {"Pack", Pack},
      {"Unpack", Unpack},
      {"Fill", Fill},
      {"ResizeBilinear", ResizeOp<true>},
      {"ResizeNearestNeighbor", ResizeOp<false>},
  };
  return t;
}

}  // namespace

TfOpFn FindTfOp(const std::string& op) {
  auto it = Table().find(op);
  return it == Table().end() ? nullptr : it->second;
}

std::vector<std::string> SupportedTfOps() {
  std::vector<std::string> v;
  for (const auto& kv : Table()) v.push_back(kv.first);
  v.push_back("Placeholder");
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace dopt
