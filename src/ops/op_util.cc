#include "ops/op_util.h"

#include <algorithm>

namespace dopt {

StatusOr<int> NormalizeAxis(const Node& node, int64_t axis, int rank) {
  if (axis < -rank || axis >= std::max(rank, 1)) {
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
