// Range: start, start + delta, ... while before `limit`: max(ceil((limit - start) / delta), 0)
// elements of the scalar inputs' dtype (float, int16, int32, int64). The output length depends
// on the input values: known when they are constant (then the node folds at load time), else
// one unknown dim.
#include <cmath>
#include <type_traits>

#include "ops/logic_util.h"

namespace dopt {
namespace {

#define DOPT_RANGE_TYPES {DType::kFloat32, DType::kInt16, DType::kInt32, DType::kInt64}

template <typename T>
StatusOr<int64_t> Count(const Node& node, T start, T limit, T delta) {
  if (delta == 0) return InvalidArgument(node.Describe() + ": delta is 0");
  double n;
  if constexpr (std::is_floating_point_v<T>) {
    n = std::ceil(((double)limit - (double)start) / (double)delta);
    if (!(n == n)) return InvalidArgument(node.Describe() + ": the element count is NaN");
  } else {
    const int64_t diff = (int64_t)limit - (int64_t)start, d = (int64_t)delta;
    int64_t q = diff / d;
    if (q * d != diff && ((diff < 0) == (d < 0))) ++q;  // ceil
    n = (double)q;
  }
  if (n < 0) n = 0;
  if (n > (double)(int64_t{1} << 40)) return InvalidArgument(node.Describe() + ": too many elements");
  return (int64_t)n;
}

StatusOr<int64_t> CountOf(const Node& node, const Tensor& s, const Tensor& l, const Tensor& d) {
  if (s.numel() != 1 || l.numel() != 1 || d.numel() != 1) return InvalidArgument(node.Describe() + ": inputs must be scalars");
  if (s.dtype() != l.dtype() || s.dtype() != d.dtype()) return InvalidArgument(node.Describe() + ": inputs have different types");
  int64_t n = 0;
  DOPT_RETURN_IF_ERROR(VisitNumericDType(ComputeDType(s.dtype()), [&](auto tag) -> Status {
    using T = decltype(tag);
    const Tensor a = ToComputeDType(s), b = ToComputeDType(l), c = ToComputeDType(d);
    DOPT_ASSIGN_OR_RETURN(n, Count<T>(node, a.data<T>()[0], b.data<T>()[0], c.data<T>()[0]));
    return Status::Ok();
  }));
  return n;
}

Status Infer(InferContext& ctx) {
  for (int i = 0; i < 3; ++i) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, i, DOPT_RANGE_TYPES));
  const DType t = ctx.input(0).dtype;
  for (int i = 1; i < 3; ++i)
    if (t != DType::kUndefined && ctx.input(i).dtype != DType::kUndefined && ctx.input(i).dtype != t)
      return InvalidArgument(ctx.node().Describe() + ": inputs have different types");
  if (ctx.input(0).value && ctx.input(1).value && ctx.input(2).value) {
    DOPT_ASSIGN_OR_RETURN(int64_t n, CountOf(ctx.node(), *ctx.input(0).value, *ctx.input(1).value, *ctx.input(2).value));
    ctx.SetOutput(0, t, {n});
  } else {
    ctx.SetOutput(0, t, {-1});
  }
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Tensor& s = ctx.input(0);
  DOPT_ASSIGN_OR_RETURN(int64_t n, CountOf(ctx.node(), s, ctx.input(1), ctx.input(2)));
  Tensor& y = ctx.OutputUninitialized(0, s.dtype(), {n});
  return VisitNumericDType(s.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    const T start = s.data<T>()[0], delta = ctx.input(2).data<T>()[0];
    T* yp = y.data<T>();
    for (int64_t i = 0; i < n; ++i) yp[i] = (T)(start + (T)i * delta);
    return Status::Ok();
  });
}

}  // namespace

const OpDef& OpDef_Range() {
  static const OpDef def{
      .name = "Range",
      .min_inputs = 3,
      .max_inputs = 3,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 11; unchanged since"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
