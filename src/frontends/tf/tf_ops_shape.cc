// TF shape and data-movement ops: Concat, Reshape, Squeeze, ExpandDims, Transpose, Split,
// Shape, StridedSlice, Pack, Unpack, Fill.
#include <algorithm>
#include <cmath>

#include "frontends/tf/tf_op_util.h"

namespace dopt {

namespace {

using namespace tfop;  // NOLINT

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

// GatherV2 (embeddings, Keras slicing): Gather on `axis`; batch_dims 0 only.
Status GatherV2(TfBuilder& b, const NodeDef& n) {
  if (AttrI(n, "batch_dims", 0) != 0) return Unimplemented(DescribeTfNode(n) + ": batch_dims other than 0 is not supported");
  DOPT_ASSIGN_OR_RETURN(int x, In(b, n, 0));
  DOPT_ASSIGN_OR_RETURN(int idx, In(b, n, 1));
  int64_t axis = 0;
  if (n.op() == "GatherV2") {
    DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> ax, ConstInts(b, n, 2, "axis"));
    if (ax.size() != 1) return InvalidArgument(DescribeTfNode(n) + ": axis must be a scalar");
    axis = ax[0];
  }
  return Result(b, n, b.Add1(n.name(), "Gather", {x, idx}, n.name(), {{"axis", AttrInt(axis)}}), false);
}

}  // namespace

void RegisterTfShapeOps(std::map<std::string, TfOpFn>* t) {
  t->insert({
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
      {"GatherV2", GatherV2},
      {"Gather", GatherV2},
  });
}

}  // namespace dopt
