// ScatterND: y = data, then for each index tuple (the last dim m of indices) in order, the slice
// y[tuple] (shape data.shape[m:]) = the matching slice of updates (shape indices.shape[:-1] +
// data.shape[m:]), or combined with it by `reduction` (16: add, mul; 18: max, min).
// Negative indices count from the end.
#include "ops/gather_scatter_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kInt64}));
  DOPT_RETURN_IF_ERROR(GetScatterReduction(ctx.node()).status());
  const ValueInfo& x = ctx.input(0);
  const ValueInfo& u = ctx.input(2);
  if (x.dtype != DType::kUndefined && u.dtype != DType::kUndefined && x.dtype != u.dtype)
    return InvalidArgument(ctx.node().Describe() + ": data and updates have different types");
  return InferSameAsInput0(ctx);
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& idx = ctx.input(1);
  const Tensor& upd = ctx.input(2);
  if (upd.dtype() != x.dtype()) return InvalidArgument(ctx.node().Describe() + ": data and updates have different types");
  DOPT_ASSIGN_OR_RETURN(ScatterReduction red, GetScatterReduction(ctx.node()));
  if (idx.rank() < 1) return InvalidArgument(ctx.node().Describe() + ": indices must have rank >= 1");
  const int64_t m = idx.dim(idx.rank() - 1);
  if (m > x.rank()) return InvalidArgument(ctx.node().Describe() + ": indices' last dim exceeds data's rank");
  Shape want(idx.shape().begin(), idx.shape().end() - 1);
  want.insert(want.end(), x.shape().begin() + m, x.shape().end());
  if (upd.shape() != want)
    return InvalidArgument(ctx.node().Describe() + ": updates have shape " + ShapeToString(upd.shape()) + ", expected " +
                           ShapeToString(want));
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> ids,
                        NormalizedIndices(ctx.node(), idx, [&](size_t i) { return x.dim((int)((int64_t)i % m)); }));
  int64_t slice = 1;
  for (int d = (int)m; d < x.rank(); ++d) slice *= x.dim(d);
  const int64_t rows = slice ? upd.numel() / slice : 0;
  std::vector<int64_t> st(m, slice);
  for (int64_t k = m - 2; k >= 0; --k) st[k] = st[k + 1] * x.dim((int)(k + 1));
  Tensor y = x.Clone();
  DOPT_RETURN_IF_ERROR(VisitNumericOrBoolDType(x.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    const T* up = upd.data<T>();
    T* yp = y.data<T>();
    for (int64_t r = 0; r < rows; ++r) {
      int64_t off = 0;
      for (int64_t k = 0; k < m; ++k) off += ids[r * m + k] * st[k];
      for (int64_t i = 0; i < slice; ++i) yp[off + i] = ApplyScatterReduction<T>(red, yp[off + i], up[r * slice + i]);
    }
    return Status::Ok();
  }));
  if (y.dtype() == DType::kBool) NormalizeBools(&y);  // add/mul on bools: or/and
  ctx.SetOutput(0, std::move(y));
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_ScatterND() {
  static const OpDef def{
      .name = "ScatterND",
      .min_inputs = 3,
      .max_inputs = 3,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 11; 13: bfloat16; 16: reduction add/mul; 18: max/min (default none)"),
      .quant = NoQuantRole(),  // data and updates would need one scale
  };
  return def;
}

}  // namespace dopt
