#include "ops/op_util.h"

#include "ir/graph_edit.h"

#include <algorithm>
#include <cstring>

namespace dopt {

StatusOr<int> NormalizeAxis(const Node& node, int64_t axis, int rank) {
  // A rank-0 tensor has no axis (not even 0): callers index shape[axis] with the result.
  if (rank <= 0) {
    return InvalidArgument(node.Describe() + ": axis " + std::to_string(axis) + " needs an input of rank 1 or more, "
                           "the input is a scalar");
  }
  if (axis < -rank || axis >= rank) {
    return InvalidArgument(node.Describe() + ": axis " + std::to_string(axis) + " is out of range for rank " +
                           std::to_string(rank));
  }
  return (int)(axis < 0 ? axis + rank : axis);
}

StatusOr<Shape> BroadcastShapes(const Node& node, const Shape& a, const Shape& b) {
  size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da == db) out[i] = da;
    else if (da == 1) out[i] = db;
    else if (db == 1) out[i] = da;
    else if (da < 0) out[i] = db;
    else if (db < 0) out[i] = da;
    else {
      return InvalidArgument(node.Describe() + ": shapes " + ShapeToString(a) + " and " + ShapeToString(b) +
                             " do not broadcast");
    }
  }
  return out;
}

Status CheckInputDType(const InferContext& ctx, int i, std::initializer_list<DType> allowed) {
  DType t = ctx.input(i).dtype;
  if (t == DType::kUndefined) return Status::Ok();  // unknown: checked at run time
  for (DType a : allowed)
    if (a == t) return Status::Ok();
  std::string names;
  for (DType a : allowed) names += std::string(names.empty() ? "" : ", ") + DTypeName(a);
  return InvalidArgument(ctx.node().Describe() + ": input " + std::to_string(i) + " has type " + DTypeName(t) +
                         ", expected one of " + names);
}

Status InferSameAsInput0(InferContext& ctx) {
  const ValueInfo& x = ctx.input(0);
  if (x.rank_known) ctx.SetOutput(0, x.dtype, x.shape);
  else ctx.SetOutputUnknownRank(0, x.dtype);
  return Status::Ok();
}

Status InferFloatUnary(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  return InferSameAsInput0(ctx);
}

StatusOr<BroadcastPlan> PlanBroadcast(const Node& node, const Shape& a, const Shape& b) {
  BroadcastPlan p;
  DOPT_ASSIGN_OR_RETURN(p.out_shape, BroadcastShapes(node, a, b));
  p.same_shape = a == b;
  const int r = (int)p.out_shape.size();
  auto strides = [&](const Shape& s) {
    std::vector<int64_t> st(r, 0);
    int64_t acc = 1;
    for (int i = r - 1; i >= 0; --i) {
      int si = i - (r - (int)s.size());
      if (si < 0) continue;
      st[i] = s[si] == 1 ? 0 : acc;
      acc *= s[si];
    }
    return st;
  };
  p.a_strides = strides(a);
  p.b_strides = strides(b);
  return p;
}

void CollapseBroadcastDims(std::vector<int64_t>* dims, std::vector<std::vector<int64_t>>* strides) {
  const std::vector<int64_t>& d = *dims;
  const size_t k = strides->size();
  std::vector<int64_t> nd;
  std::vector<std::vector<int64_t>> ns(k);
  for (size_t i = 0; i < d.size(); ++i) {
    if (d[i] == 1) continue;
    bool merge = !nd.empty();
    for (size_t j = 0; j < k && merge; ++j) merge = ns[j].back() == (*strides)[j][i] * d[i];
    if (merge) {
      nd.back() *= d[i];
      for (size_t j = 0; j < k; ++j) ns[j].back() = (*strides)[j][i];
    } else {
      nd.push_back(d[i]);
      for (size_t j = 0; j < k; ++j) ns[j].push_back((*strides)[j][i]);
    }
  }
  *dims = std::move(nd);
  *strides = std::move(ns);
}

Status InferBroadcastBinary(InferContext& ctx, std::initializer_list<DType> allowed) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, allowed));
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, allowed));
  const ValueInfo& a = ctx.input(0);
  const ValueInfo& b = ctx.input(1);
  if (a.dtype != DType::kUndefined && b.dtype != DType::kUndefined && a.dtype != b.dtype) {
    return InvalidArgument(ctx.node().Describe() + ": inputs have different types " + DTypeName(a.dtype) + " and " +
                           DTypeName(b.dtype));
  }
  DType t = a.dtype != DType::kUndefined ? a.dtype : b.dtype;
  if (!a.rank_known || !b.rank_known) {
    ctx.SetOutputUnknownRank(0, t);
    return Status::Ok();
  }
  DOPT_ASSIGN_OR_RETURN(Shape s, BroadcastShapes(ctx.node(), a.shape, b.shape));
  ctx.SetOutput(0, t, s);
  return Status::Ok();
}

}  // namespace dopt

namespace dopt {

StatusOr<QuantAxisLayout> GetQuantAxisLayout(const Node& node, const Shape& x, const Shape& scale,
                                             const Shape* zero_point, int64_t axis, bool allow_unknown) {
  QuantAxisLayout l;
  const int64_t sn = NumElements(scale);
  if (zero_point && *zero_point != scale && !(NumElements(*zero_point) == 1 && sn == 1)) {
    return InvalidArgument(node.Describe() + ": zero point shape " + ShapeToString(*zero_point) +
                           " differs from scale shape " + ShapeToString(scale));
  }
  if (sn == 1 && scale.size() <= 1) {  // per-tensor
    l.inner = NumElements(x);
    return l;
  }
  if (scale.size() != 1) {
    return InvalidArgument(node.Describe() + ": scale must be a scalar or 1-D, got shape " + ShapeToString(scale));
  }
  DOPT_ASSIGN_OR_RETURN(l.axis, NormalizeAxis(node, axis, (int)x.size()));
  if (x.empty()) return InvalidArgument(node.Describe() + ": per-axis scale needs an input of rank >= 1");
  l.per_axis = true;
  if (x[l.axis] >= 0 && x[l.axis] != scale[0]) {
    return InvalidArgument(node.Describe() + ": scale has " + std::to_string(scale[0]) + " elements but input dim " +
                           std::to_string(l.axis) + " of shape " + ShapeToString(x) + " is " +
                           std::to_string(x[l.axis]));
  }
  if (!allow_unknown) {
    for (int64_t d : x)
      if (d < 0) return Internal(node.Describe() + ": unknown dim at run time");
  }
  l.channels = scale[0];
  for (int i = 0; i < l.axis; ++i) l.outer *= x[i];
  for (int i = l.axis + 1; i < (int)x.size(); ++i) l.inner *= x[i];
  return l;
}

}  // namespace dopt

namespace dopt {

Status InferBroadcastVariadic(InferContext& ctx, std::initializer_list<DType> allowed) {
  DType t = DType::kUndefined;
  bool rank_known = true;
  Shape shape;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) return InvalidArgument(ctx.node().Describe() + ": input " + std::to_string(i) + " is missing");
    DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, i, allowed));
    const ValueInfo& in = ctx.input(i);
    if (in.dtype != DType::kUndefined) {
      if (t != DType::kUndefined && t != in.dtype) {
        return InvalidArgument(ctx.node().Describe() + ": inputs have different types " + DTypeName(t) + " and " +
                               DTypeName(in.dtype));
      }
      t = in.dtype;
    }
    if (!in.rank_known) {
      rank_known = false;
      continue;
    }
    if (rank_known) {
      DOPT_ASSIGN_OR_RETURN(shape, BroadcastShapes(ctx.node(), shape, in.shape));
    }
  }
  if (rank_known) ctx.SetOutput(0, t, shape);
  else ctx.SetOutputUnknownRank(0, t);
  return Status::Ok();
}

Status CheckQuantAxisInputs(const InferContext& ctx) {
  const Node& node = ctx.node();
  DOPT_ASSIGN_OR_RETURN(int64_t block, node.GetInt("block_size", 0));
  if (block != 0) return Unimplemented(node.Describe() + ": blocked quantization (block_size) is not supported");
  DOPT_ASSIGN_OR_RETURN(int64_t axis, node.GetInt("axis", 1));
  const ValueInfo& x = ctx.input(0);
  const ValueInfo& s = ctx.input(1);
  const bool zp = ctx.has_input(2);
  if (!x.rank_known || !s.ShapeKnown() || (zp && !ctx.input(2).ShapeKnown())) return Status::Ok();
  return GetQuantAxisLayout(node, x.shape, s.shape, zp ? &ctx.input(2).shape : nullptr, axis, true).status();
}

Status InferGlobalPool(InferContext& ctx) {
  const ValueInfo& x = ctx.input(0);
  if (!x.rank_known) {
    ctx.SetOutputUnknownRank(0, x.dtype);
    return Status::Ok();
  }
  if (x.shape.size() < 2) {
    return InvalidArgument(ctx.node().Describe() + ": input X must have rank >= 2, got " + ShapeToString(x.shape));
  }
  Shape out(x.shape.size(), 1);
  out[0] = x.shape[0];
  out[1] = x.shape[1];
  ctx.SetOutput(0, x.dtype, out);
  return Status::Ok();
}

StatusOr<MatMulShapes> PlanMatMulShapes(const Node& node, const Shape& a, const Shape& b) {
  if (a.empty() || b.empty()) return InvalidArgument(node.Describe() + ": MatMul inputs must have rank >= 1");
  MatMulShapes s;
  Shape a2 = a, b2 = b;
  if (a.size() == 1) a2.insert(a2.begin(), 1);
  if (b.size() == 1) b2.push_back(1);
  s.M = a2[a2.size() - 2];
  s.K = a2.back();
  const int64_t kb = b2[b2.size() - 2];
  s.N = b2.back();
  if (s.K >= 0 && kb >= 0 && s.K != kb) {
    return InvalidArgument(node.Describe() + ": inner dimensions differ: " + ShapeToString(a) + " x " + ShapeToString(b));
  }
  if (s.K < 0) s.K = kb;
  Shape ab(a2.begin(), a2.end() - 2), bb(b2.begin(), b2.end() - 2);
  DOPT_ASSIGN_OR_RETURN(s.batch, BroadcastShapes(node, ab, bb));
  s.out = s.batch;
  if (a.size() > 1) s.out.push_back(s.M);
  if (b.size() > 1) s.out.push_back(s.N);
  return s;
}

bool UnaryEpilogue(const EpilogueQuery& q, kernels::EpilogueStep* s, kernels::EpilogueStep::Op op, float a,
                   float b) {
  if (q.root >= 0 || q.chain != 0) return false;
  s->op = op;
  s->a = a;
  s->b = b;
  s->channel_c.clear();
  return true;
}

bool BinaryEpilogue(const EpilogueQuery& q, kernels::EpilogueStep* s, kernels::EpilogueStep::Op chain_first,
                    kernels::EpilogueStep::Op chain_second, kernels::EpilogueStep::Op root) {
  if (q.node.inputs.size() != 2 || (q.chain != 0 && q.chain != 1)) return false;
  const int other = 1 - q.chain;
  s->channel_c.clear();
  s->a = s->b = 0.f;
  if (q.root >= 0) {
    if (q.root != other || root == kernels::EpilogueStep::kNumOps) return false;
    s->op = root;
    return true;
  }
  const int v = q.node.inputs[(size_t)other];
  if (v < 0) return false;
  const Tensor* c = q.graph.value(v).ConstantValue();
  if (!c || c->rank() > q.rank || q.rank < 2) return false;
  if (c->dtype() != DType::kFloat32 && c->dtype() != DType::kFloat16 && c->dtype() != DType::kBFloat16) return false;
  s->op = q.chain == 0 ? chain_first : chain_second;
  if (c->numel() == 1) {
    s->a = c->CastTo(DType::kFloat32).data<float>()[0];
    return true;
  }
  // Right-aligned: the output's channel axis is the constant's dim rank_c - (rank - axis);
  // every other dim 1.
  const int ch = c->rank() - (q.rank - q.channel_axis);
  for (int d = 0; d < c->rank(); ++d)
    if (d != ch && c->dim(d) != 1) return false;
  if (ch < 0 || c->dim(ch) != q.channels) return false;
  Tensor f = c->CastTo(DType::kFloat32);
  s->channel_c.assign(f.data<float>(), f.data<float>() + f.numel());
  return true;
}

void SetEpilogueAttrs(Node& node, const std::vector<kernels::EpilogueStep>& steps) {
  std::vector<int64_t> ops;
  std::vector<float> args, channels;
  for (const kernels::EpilogueStep& s : steps) {
    ops.push_back((int64_t)s.op + (s.channel_c.empty() ? 0 : 1000));
    args.push_back(s.a);
    args.push_back(s.b);
    channels.insert(channels.end(), s.channel_c.begin(), s.channel_c.end());
  }
  SetAttr(node, "dopt.epilogue_ops", IntsAttr(std::move(ops)));
  SetAttr(node, "dopt.epilogue_args", FloatsAttr(std::move(args)));
  SetAttr(node, "dopt.epilogue_channels", FloatsAttr(std::move(channels)));
}

StatusOr<std::vector<kernels::EpilogueStep>> GetEpilogueAttrs(const Node& node) {
  std::vector<kernels::EpilogueStep> steps;
  if (!node.HasAttr("dopt.epilogue_ops")) return steps;
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> ops, node.GetInts("dopt.epilogue_ops"));
  DOPT_ASSIGN_OR_RETURN(std::vector<float> args, node.GetFloats("dopt.epilogue_args"));
  DOPT_ASSIGN_OR_RETURN(std::vector<float> channels, node.GetFloats("dopt.epilogue_channels"));
  size_t with_c = 0;
  for (int64_t op : ops) with_c += op >= 1000;
  if (args.size() != 2 * ops.size() || (with_c ? channels.size() % with_c : channels.size()) != 0) {
    return Internal(node.Describe() + ": malformed dopt.epilogue attributes");
  }
  const size_t per = with_c ? channels.size() / with_c : 0;
  size_t at = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    const int64_t op = ops[i] % 1000;
    if (op < 0 || op >= kernels::EpilogueStep::kNumOps) return Internal(node.Describe() + ": unknown epilogue step");
    kernels::EpilogueStep s;
    s.op = (kernels::EpilogueStep::Op)op;
    s.a = args[2 * i];
    s.b = args[2 * i + 1];
    if (ops[i] >= 1000) {
      s.channel_c.assign(channels.begin() + (std::ptrdiff_t)at, channels.begin() + (std::ptrdiff_t)(at + per));
      at += per;
    }
    steps.push_back(std::move(s));
  }
  return steps;
}

bool IsChannelsLast(const Node& node) {
  auto v = node.GetInt("dopt.channels_last", 0);
  return v.ok() && *v != 0;
}

Shape ToChannelsLast(const Shape& s) { return s.size() == 4 ? Shape{s[0], s[2], s[3], s[1]} : s; }
Shape ToChannelsFirst(const Shape& s) { return s.size() == 4 ? Shape{s[0], s[3], s[1], s[2]} : s; }

namespace {
bool Is4DFloat(const Graph& g, int v) {
  if (v < 0) return false;
  const Value& val = g.value(v);
  return val.rank_known && val.shape.size() == 4 && IsFloat(val.dtype);  // float16 / bfloat16 run as float32
}
}  // namespace

bool Input0ChannelsLast(const Graph& g, const Node& n, ChannelsLastPlan* plan) {
  if (n.inputs.empty() || n.outputs.size() != 1 || !Is4DFloat(g, n.inputs[0]) || !Is4DFloat(g, n.outputs[0])) {
    return false;
  }
  *plan = ChannelsLastPlan();
  plan->inputs = 1;
  return true;
}

bool KernelChannelsLast(const Graph& g, const Node& n, ChannelsLastPlan* plan) {
  if (!Input0ChannelsLast(g, n, plan)) return false;
  plan->set_attrs = {{"dopt.channels_last", IntAttr(1)}};
  return true;
}

bool ElementwiseChannelsLast(const Graph& g, const Node& n, ChannelsLastPlan* plan) {
  if (n.outputs.size() != 1 || !Is4DFloat(g, n.outputs[0]) || n.inputs.size() > 64) return false;
  ChannelsLastPlan p;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const int v = n.inputs[i];
    if (v < 0) continue;
    const Tensor* c = g.value(v).ConstantValue();
    if (!c) {
      if (!Is4DFloat(g, v)) return false;
      p.inputs |= uint64_t{1} << i;
      continue;
    }
    if (c->numel() == 1 || c->rank() > 4) {
      if (c->rank() > 4) return false;
      continue;
    }
    // Right-align to [a, b, c, d], then permute to [a, c, d, b].
    Shape s4(4, 1);
    for (int d = 0; d < c->rank(); ++d) s4[(size_t)(4 - c->rank() + d)] = c->dim(d);
    Tensor t(c->dtype(), ToChannelsLast(s4));
    const size_t es = DTypeSize(c->dtype());
    if (es == 0 || c->dtype() == DType::kString) return false;
    const auto* src = static_cast<const uint8_t*>(c->raw());
    auto* dst = static_cast<uint8_t*>(t.raw());
    for (int64_t a = 0; a < s4[0]; ++a)
      for (int64_t h = 0; h < s4[2]; ++h)
        for (int64_t w = 0; w < s4[3]; ++w)
          for (int64_t ch = 0; ch < s4[1]; ++ch) {
            const int64_t from = ((a * s4[1] + ch) * s4[2] + h) * s4[3] + w;
            std::memcpy(dst, src + from * es, es);
            dst += es;
          }
    p.constants.push_back({(int)i, std::move(t)});
  }
  if (p.inputs == 0) return false;
  *plan = std::move(p);
  return true;
}

}  // namespace dopt
