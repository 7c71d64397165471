// TF convolutions, pooling, batch norm, resizes (computed in NCHW), matrix products,
// reductions and padding.
#include <algorithm>
#include <cmath>
#include <limits>

#include "frontends/tf/tf_op_util.h"

namespace dopt {

namespace {

using namespace tfop;  // NOLINT

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

// is_training=true: batch statistics, output 0 only. tf_keras LayerNormalization reshapes its
// input to [1, rows, cols, 1] NCHW and normalizes each row so, with ones / zeros as scale and
// offset: y = (x - mean) / sqrt(var + eps) * scale + offset, mean and (biased) var over every
// axis but the channel.
Status FusedBatchNormTraining(TfBuilder& b, const NodeDef& n) {
  DOPT_ASSIGN_OR_RETURN(auto xin, ChannelsFirstInput(b, n, 0));
  const int x = xin.first;
  std::vector<int> sb;  // scale, offset as [C, 1, 1]
  for (int i = 1; i <= 2; ++i) {
    DOPT_ASSIGN_OR_RETURN(int id, In(b, n, i));
    const std::string nm = Sub(n, i == 1 ? "scale_c11" : "offset_c11");
    if (const Tensor* c = b.ConstOf(id)) {
      sb.push_back(b.Const(nm, c->Reshaped({c->numel(), 1, 1})));
    } else {
      sb.push_back(b.Add1(nm, "Reshape", {id, b.ConstI64(Sub(n, "c11"), {-1, 1, 1})}, nm));
    }
  }
  const int axes = b.ConstI64(Sub(n, "axes"), {0, 2, 3});
  const std::vector<std::pair<std::string, Attribute>> keep = {{"keepdims", AttrInt(1)}};
  int mean = b.Add1(Sub(n, "mean"), "ReduceMean", {x, axes}, Sub(n, "mean"), keep);
  int d = b.Add1(Sub(n, "centered"), "Sub", {x, mean}, Sub(n, "centered"));
  int sq = b.Add1(Sub(n, "square"), "Mul", {d, d}, Sub(n, "square"));
  int var = b.Add1(Sub(n, "variance"), "ReduceMean", {sq, axes}, Sub(n, "variance"), keep);
  int ve = b.Add1(Sub(n, "variance_eps"), "Add", {var, b.Const(Sub(n, "epsilon"), Tensor::Scalar(AttrF(n, "epsilon", 1e-4f)))},
                  Sub(n, "variance_eps"));
  int sd = b.Add1(Sub(n, "stddev"), "Sqrt", {ve}, Sub(n, "stddev"));
  int norm = b.Add1(Sub(n, "normalized"), "Div", {d, sd}, Sub(n, "normalized"));
  int scaled = b.Add1(Sub(n, "scaled"), "Mul", {norm, sb[0]}, Sub(n, "scaled"));
  const bool nhwc = Nhwc(n);
  return Result(b, n, b.Add1(n.name(), "Add", {scaled, sb[1]}, OutName(n, nhwc)), nhwc);
}

Status FusedBatchNorm(TfBuilder& b, const NodeDef& n) {
  if (AttrB(n, "is_training", true)) return FusedBatchNormTraining(b, n);  // TF's default is true
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
// MatMul (transpose_a/b), BatchMatMul / V2 / V3 (adj_x/adj_y): MatMul on the operands with
// their last two dims swapped where asked.
Status MatMulOp(TfBuilder& b, const NodeDef& n) {
  const bool batch = n.op() != "MatMul";
  if (auto* t = A(n, "Tout")) {
    if (t->type() != dopt_tf::DT_FLOAT && t->type() != dopt_tf::DT_INVALID)
      return Unimplemented(DescribeTfNode(n) + ": only a float32 result (Tout) is supported");
  }
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
constexpr char kReduceMean[] = "ReduceMean", kReduceSum[] = "ReduceSum", kReduceMax[] = "ReduceMax",
               kReduceMin[] = "ReduceMin", kReduceProd[] = "ReduceProd";

// Prod: ReduceProd, through float for integer inputs (tf_keras LayerNormalization multiplies
// shape dims; exact below 2^24, and such shape arithmetic folds to constants).
Status ProdOp(TfBuilder& b, const NodeDef& n) {
  DOPT_ASSIGN_OR_RETURN(int x, In(b, n, 0));
  const DType dt = b.V(x).dtype;
  if (!IsInteger(dt)) return Reduce<kReduceProd>(b, n);
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> axes, ConstInts(b, n, 1, "reduction_indices"));
  int xf = b.Add1(Sub(n, "float"), "Cast", {x}, Sub(n, "float"), {{"to", AttrInt(1)}});
  int p = b.Add1(Sub(n, "prod"), "ReduceProd", {xf, b.ConstI64(Sub(n, "axes"), axes)}, Sub(n, "prod"),
                 {{"keepdims", AttrInt(AttrB(n, "keep_dims", false) ? 1 : 0)}});
  return Result(b, n, b.Add1(n.name(), "Cast", {p}, n.name(), {{"to", AttrInt(OnnxType(dt))}}), false);
}

// Einsum: the IR's Einsum with TF's equation (Keras MultiHeadAttention: "BTNH,BSNH->BNTS",
// "BNTS,BSNH->BTNH"; EinsumDense: "abc,cd->abd", ...).
Status EinsumOp(TfBuilder& b, const NodeDef& n) {
  const std::string eq = AttrS(n, "equation", "");
  if (eq.empty()) return InvalidArgument(DescribeTfNode(n) + ": has no equation");
  const int k = b.NumDataInputs(n);
  if (k < 1 || k > 2) return Unimplemented(DescribeTfNode(n) + ": " + std::to_string(k) + " operands (1 or 2 supported)");
  std::vector<int> ins;
  for (int i = 0; i < k; ++i) {
    DOPT_ASSIGN_OR_RETURN(int x, In(b, n, i));
    ins.push_back(x);
  }
  // A dense layer (Keras 2 EinsumDense: "abc,cd->abd", "abc,cde->abde"): "P k, k N -> P N" with
  // a constant kernel and one contracted label is MatMul(x, kernel as [k, |N|]) (then a Reshape
  // to P + N when N has several labels), so the kernel is quantized like a MatMul weight.
  if (k == 2) {
    if (const Tensor* w = b.ConstOf(ins[1])) {
      const size_t comma = eq.find(','), arrow = eq.find("->");
      if (comma != std::string::npos && arrow != std::string::npos && arrow > comma && eq.find('.') == std::string::npos) {
        const std::string X = eq.substr(0, comma), Y = eq.substr(comma + 1, arrow - comma - 1), Z = eq.substr(arrow + 2);
        const std::string P = X.empty() ? "" : X.substr(0, X.size() - 1), N = Y.size() > 1 ? Y.substr(1) : "";
        std::string all = X + N;
        std::sort(all.begin(), all.end());
        const bool distinct = std::adjacent_find(all.begin(), all.end()) == all.end();
        if (X.size() >= 2 && Y.size() >= 2 && !N.empty() && X.back() == Y[0] && Z == P + N && distinct &&
            w->rank() == (int)Y.size() && b.Rank(ins[0]) == (int)X.size() && IsFloat(w->dtype())) {
          const Shape ws = w->shape();  // `w` points into the graph: adding values moves it
          int64_t cols = 1;
          for (size_t d = 1; d < ws.size(); ++d) cols *= ws[d];
          int w2 = b.Const(InName(n, 1) + "/dopt_2d", w->Reshaped({ws[0], cols}));
          if (N.size() == 1) return Result(b, n, b.Add1(n.name(), "MatMul", {ins[0], w2}, n.name()), false);
          int mm = b.Add1(n.name(), "MatMul", {ins[0], w2}, Sub(n, "matmul"));
          std::vector<int64_t> shape(P.size(), 0);  // 0: the dim of the MatMul result
          for (size_t d = 1; d < ws.size(); ++d) shape.push_back(ws[d]);
          return Result(b, n, b.Add1(Sub(n, "reshape"), "Reshape", {mm, b.ConstI64(Sub(n, "shape"), shape)}, n.name()), false);
        }
      }
    }
  }
  return Result(b, n, b.Add1(n.name(), "Einsum", ins, n.name(), {{"equation", AttrStr(eq)}}), false);
}

// ---- padding ----

// MirrorPad SYMMETRIC (the edge value repeated, unlike ONNX's reflect): per padded dim, the
// first `before` values reversed, the tensor, the last `after` values reversed, concatenated
// (Slice with step -1 reverses). `pads` in ONNX order (all befores, then all afters).
Status SymmetricPad(TfBuilder& b, const NodeDef& n, int x, const std::vector<int64_t>& pads, bool nchw) {
  const int r = (int)pads.size() / 2;
  for (int d = 0; d < r; ++d) {
    const int64_t before = pads[d], after = pads[d + r];
    if (before < 0 || after < 0) return InvalidArgument(DescribeTfNode(n) + ": MirrorPad paddings must not be negative");
    if (before == 0 && after == 0) continue;
    const std::string dim = std::to_string(d);
    std::vector<int> parts;
    auto reversed = [&](const std::string& what, int64_t start, int64_t end) {
      return b.Add1(Sub(n, what + dim), "Slice",
                    {x, b.ConstI64(Sub(n, what + dim + "_starts"), {start}), b.ConstI64(Sub(n, what + dim + "_ends"), {end}),
                     b.ConstI64(Sub(n, what + dim + "_axes"), {d}), b.ConstI64(Sub(n, what + dim + "_steps"), {-1})},
                    Sub(n, what + dim));
    };
    if (before > 0) parts.push_back(reversed("head", before - 1, std::numeric_limits<int64_t>::min()));
    parts.push_back(x);
    if (after > 0) parts.push_back(reversed("tail", -1, -1 - after));
    x = b.Add1(Sub(n, "cat" + dim), "Concat", parts, Sub(n, "cat" + dim), {{"axis", AttrInt(d)}});
  }
  // The last step carries the node's own name and output.
  int out = b.Add1(n.name(), "Identity", {x}, OutName(n, nchw));
  return Result(b, n, out, nchw);
}

Status PadOp(TfBuilder& b, const NodeDef& n) {
  DOPT_ASSIGN_OR_RETURN(TfTensor x, b.Input(n, 0));
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> p, ConstInts(b, n, 1, "paddings"));
  const int r = (int)p.size() / 2;
  if (p.size() % 2 || (b.Rank(x.tf) >= 0 && b.Rank(x.tf) != r)) return InvalidArgument(DescribeTfNode(n) + ": paddings must have shape [rank, 2]");
  std::string mode = "constant";
  bool symmetric = false;
  if (n.op() == "MirrorPad") {
    std::string m = AttrS(n, "mode", "REFLECT");
    if (m != "REFLECT" && m != "SYMMETRIC") {
      return InvalidArgument(DescribeTfNode(n) + ": MirrorPad mode " + m + " is not REFLECT or SYMMETRIC");
    }
    mode = "reflect";
    symmetric = m == "SYMMETRIC";
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
  if (symmetric) return SymmetricPad(b, n, nchw ? x.nchw : x.tf, pads, nchw);
  std::vector<int> ins = {nchw ? x.nchw : x.tf, b.ConstI64(Sub(n, "pads"), pads)};
  if (n.op() == "PadV2") {
    DOPT_ASSIGN_OR_RETURN(int cv, In(b, n, 2));
    ins.push_back(cv);
  }
  return Result(b, n, b.Add1(n.name(), "Pad", ins, OutName(n, nchw), {{"mode", AttrStr(mode)}}), nchw);
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

}  // namespace

void RegisterTfNnOps(std::map<std::string, TfOpFn>* t) {
  t->insert({
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
      {"BatchMatMulV3", MatMulOp},
      {"Einsum", EinsumOp},
      {"Min", Reduce<kReduceMin>},
      {"Prod", ProdOp},
      {"Mean", Reduce<kReduceMean>},
      {"Sum", Reduce<kReduceSum>},
      {"Max", Reduce<kReduceMax>},
      {"Pad", PadOp},
      {"PadV2", PadOp},
      {"MirrorPad", PadOp},
      {"ResizeBilinear", ResizeOp<true>},
      {"ResizeNearestNeighbor", ResizeOp<false>},
  });
}

}  // namespace dopt
