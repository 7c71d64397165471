// Compress: the slices of x along `axis` (or the elements of flattened x, without axis) whose
// entry in the 1-D bool condition is true; a condition shorter than the axis drops the rest.
// The output length depends on the values: unknown (-1) unless the condition is constant.
// Any dtype: elements are only selected.
#include <string>

#include "ops/logic_util.h"

namespace dopt {
namespace {

// The axis (normalised), or -1 for "flatten".
StatusOr<int> GetAxis(const Node& node, int rank) {
  if (!node.HasAttr("axis")) return -1;
  DOPT_ASSIGN_OR_RETURN(int64_t axis, node.GetInt("axis", 0));
  return NormalizeAxis(node, axis, rank);
}

StatusOr<int64_t> CountTrue(const Node& node, const Tensor& cond_in) {
  const Tensor cond = ToComputeDType(cond_in);
  int64_t count = 0;
  DOPT_RETURN_IF_ERROR(VisitNumericOrBoolDType(cond.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    for (int64_t i = 0; i < cond.numel(); ++i) count += cond.data<T>()[i] != T(0);
    return Status::Ok();
  }));
  return count;
}

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kBool}));
  const ValueInfo& x = ctx.input(0);
  const ValueInfo& c = ctx.input(1);
  if (c.rank_known && c.shape.size() != 1) {
    return InvalidArgument(ctx.node().Describe() + ": condition must be 1-D, got " + ShapeToString(c.shape));
  }
  int64_t count = -1;
  if (c.value) {
    DOPT_ASSIGN_OR_RETURN(count, CountTrue(ctx.node(), *c.value));
  }
  if (!ctx.node().HasAttr("axis")) {
    ctx.SetOutput(0, x.dtype, {count});
    return Status::Ok();
  }
  if (!x.rank_known) {
    ctx.SetOutputUnknownRank(0, x.dtype);
    return Status::Ok();
  }
  DOPT_ASSIGN_OR_RETURN(int axis, GetAxis(ctx.node(), (int)x.shape.size()));
  Shape out = x.shape;
  out[axis] = count;
  ctx.SetOutput(0, x.dtype, out);
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& c_in = ctx.input(1);
  if (c_in.rank() != 1) {
    return InvalidArgument(ctx.node().Describe() + ": condition must be 1-D, got " + ShapeToString(c_in.shape()));
  }
  DOPT_ASSIGN_OR_RETURN(int axis, GetAxis(ctx.node(), x.rank()));
  // x viewed as [outer, n, inner] with n the compressed dim.
  int64_t outer = 1, n = x.numel(), inner = 1;
  if (axis >= 0) {
    n = x.dim(axis);
    for (int d = 0; d < axis; ++d) outer *= x.dim(d);
    for (int d = axis + 1; d < x.rank(); ++d) inner *= x.dim(d);
  }
  if (c_in.numel() > n) {
    return InvalidArgument(ctx.node().Describe() + ": condition has " + std::to_string(c_in.numel()) +
                           " entries for a dimension of " + std::to_string(n));
  }
  const Tensor cond = ToComputeDType(c_in);
  std::vector<int64_t> keep;
  DOPT_RETURN_IF_ERROR(VisitNumericOrBoolDType(cond.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    for (int64_t i = 0; i < cond.numel(); ++i)
      if (cond.data<T>()[i] != T(0)) keep.push_back(i);
    return Status::Ok();
  }));
  const int64_t k = (int64_t)keep.size();
  Shape out;
  if (axis < 0) {
    out = {k};
  } else {
    out = x.shape();
    out[axis] = k;
  }
  Tensor& y = ctx.OutputUninitialized(0, x.dtype(), out);
  if (y.numel() == 0) return Status::Ok();
  bool ok = DispatchByElemSize(DTypeSize(x.dtype()), [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    ParallelForOrInline(ctx.pool(), outer * k, std::max<int64_t>(1, (1 << 14) / inner), [&](int64_t s, int64_t e) {
      for (int64_t r = s; r < e; ++r) {
        const int64_t o = r / k, j = r % k;
        const T* src = xp + (o * n + keep[j]) * inner;
        std::copy(src, src + inner, yp + r * inner);
      }
    });
  });
  if (!ok) return InvalidArgument(ctx.node().Describe() + ": unsupported type " + DTypeName(x.dtype()));
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_Compress() {
  static const OpDef def{
      .name = "Compress",
      .min_inputs = 2,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced in 9; 11: negative axis allowed"),
      .quant = SharesInputScale(),  // selects elements
  };
  return def;
}

}  // namespace dopt
