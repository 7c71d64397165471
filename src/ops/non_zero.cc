// NonZero: the indices of x's non-zero elements, int64 of shape [rank(x), count] in row-major
// order. The count depends on the values: unknown (-1) unless x is constant (then it folds).
#include "ops/logic_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  const ValueInfo& x = ctx.input(0);
  if (!x.rank_known) {
    ctx.SetOutput(0, DType::kInt64, {-1, -1});
    return Status::Ok();
  }
  int64_t count = -1;
  if (x.value) {
    const Tensor v = ToComputeDType(*x.value);
    count = 0;
    DOPT_RETURN_IF_ERROR(VisitNumericOrBoolDType(v.dtype(), [&](auto tag) -> Status {
      using T = decltype(tag);
      for (int64_t i = 0; i < v.numel(); ++i) count += v.data<T>()[i] != T(0);
      return Status::Ok();
    }));
  }
  ctx.SetOutput(0, DType::kInt64, {(int64_t)x.shape.size(), count});
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  std::vector<int64_t> hits;
  DOPT_RETURN_IF_ERROR(VisitNumericOrBoolDType(x.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    for (int64_t i = 0; i < x.numel(); ++i)
      if (xp[i] != T(0)) hits.push_back(i);
    return Status::Ok();
  }));
  const int rank = x.rank();
  const int64_t n = (int64_t)hits.size();
  Tensor& y = ctx.OutputUninitialized(0, DType::kInt64, {(int64_t)rank, n});
  int64_t* yp = y.data<int64_t>();
  for (int64_t j = 0; j < n; ++j) {
    int64_t r = hits[j];
    for (int d = rank - 1; d >= 0; --d) {
      yp[d * n + j] = r % x.dim(d);
      r /= x.dim(d);
    }
  }
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_NonZero() {
  static const OpDef def{
      .name = "NonZero",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 9; 13: bfloat16"),
      .quant = NoQuantRole(),  // an int64 output
  };
  return def;
}

}  // namespace dopt
