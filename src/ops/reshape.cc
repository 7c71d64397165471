// Reshape: same data, new shape. The shape comes from input 1 (opset 5+, int64) or the
// `shape` attribute (opset < 5); 0 copies the input dim (unless allowzero=1), -1 is inferred.
// The output shares the input buffer.
#include "ops/op_util.h"

namespace dopt {
namespace {

// `in` may hold unknown dims (-1) when in_known is false; then -1 stays unknown.
StatusOr<Shape> ComputeShape(const Node& node, const Shape& in, bool in_rank_known, const std::vector<int64_t>& spec,
                             bool allowzero) {
  Shape out(spec.size());
  int infer_at = -1;
  bool has_zero = false;
  for (size_t i = 0; i < spec.size(); ++i) {
    int64_t s = spec[i];
    if (s == -1) {
      if (infer_at >= 0) return InvalidArgument(node.Describe() + ": shape has more than one -1");
      infer_at = (int)i;
      out[i] = -1;
    } else if (s == 0 && !allowzero) {
      if (in_rank_known && i >= in.size()) {
        return InvalidArgument(node.Describe() + ": shape entry " + std::to_string(i) +
                               " is 0 (copy) but the input has rank " + std::to_string(in.size()));
      }
      out[i] = in_rank_known ? in[i] : -1;
    } else if (s < 0) {
      return InvalidArgument(node.Describe() + ": invalid shape entry " + std::to_string(s));
    } else {
      if (s == 0) has_zero = true;
      out[i] = s;
    }
  }
  if (infer_at >= 0 && allowzero && has_zero) {
    return InvalidArgument(node.Describe() + ": shape has both -1 and 0 with allowzero=1");
  }
  bool in_known = in_rank_known;
  for (int64_t d : in) if (d < 0) in_known = false;
  if (!in_known) return out;
  int64_t total = NumElements(in);
  int64_t known = 1;
  bool out_known = true;
  for (size_t i = 0; i < out.size(); ++i) {
    if ((int)i == infer_at) continue;
    if (out[i] < 0) {
      out_known = false;
    } else if (__builtin_mul_overflow(known, out[i], &known)) {
      return InvalidArgument(node.Describe() + ": shape " + ShapeToString(out) + " has more elements than int64 holds");
    }
  }
  if (!out_known) return out;
  if (infer_at >= 0) {
    if (known == 0 || total % known != 0) {
      return InvalidArgument(node.Describe() + ": cannot reshape " + ShapeToString(in) + " to " +
                             ShapeToString(Shape(spec.begin(), spec.end())));
    }
    out[infer_at] = total / known;
  } else if (known != total) {
    return InvalidArgument(node.Describe() + ": cannot reshape " + ShapeToString(in) + " (" + std::to_string(total) +
                           " elements) to " + ShapeToString(out));
  }
  return out;
}

Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  DOPT_ASSIGN_OR_RETURN(int64_t allowzero, node.GetInt("allowzero", 0));
  const ValueInfo& x = ctx.input(0);
  std::vector<int64_t> spec;
  bool spec_known = false;
  if (ctx.has_input(1)) {
    DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kInt64}));
    const ValueInfo& s = ctx.input(1);
    if (s.value) {
      spec = s.value->ToInt64Vector();
      spec_known = true;
    } else if (s.rank_known && s.shape.size() == 1 && s.shape[0] >= 0 && s.shape[0] <= kMaxDeclaredRank) {
      ctx.SetOutput(0, x.dtype, Shape(s.shape[0], -1));
      return Status::Ok();
    }
  } else if (node.HasAttr("shape")) {
    DOPT_ASSIGN_OR_RETURN(spec, node.GetInts("shape"));
    spec_known = true;
  } else {
    return InvalidArgument(node.Describe() + ": no shape input or attribute");
  }
  if (!spec_known) {
    ctx.SetOutputUnknownRank(0, x.dtype);
    return Status::Ok();
  }
  DOPT_ASSIGN_OR_RETURN(Shape out, ComputeShape(node, x.shape, x.rank_known, spec, allowzero != 0));
  ctx.SetOutput(0, x.dtype, out);
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  DOPT_ASSIGN_OR_RETURN(int64_t allowzero, node.GetInt("allowzero", 0));
  const Tensor& x = ctx.input(0);
  std::vector<int64_t> spec;
  if (ctx.has_input(1)) {
    spec = ctx.input(1).ToInt64Vector();
  } else {
    DOPT_ASSIGN_OR_RETURN(spec, node.GetInts("shape"));
  }
  DOPT_ASSIGN_OR_RETURN(Shape out, ComputeShape(node, x.shape(), true, spec, allowzero != 0));
  ctx.SetOutput(0, x.Reshaped(out));
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_Reshape() {
  static const OpDef def{
      .name = "Reshape",
      .min_inputs = 1,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("13, 19, 21: types; 14: allowzero (default 0: a 0 copies the input dim, as before)").Since(5),
      .quant = SharesInputScale(),  // moves elements
  };
  return def;
}

}  // namespace dopt
