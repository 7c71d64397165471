// ScatterElements: y = data, then for each position p of indices, in order,
// y[p with p[axis] replaced by indices[p]] = updates[p], or combined with it by `reduction`
// (16: add, mul; 18: max, min). Negative indices count from the end.
#include "ops/gather_scatter_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kInt32, DType::kInt64}));
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
  const int rank = x.rank();
  if (idx.rank() != rank || upd.shape() != idx.shape() || rank == 0)
    return InvalidArgument(ctx.node().Describe() + ": indices and updates must have one shape, of data's rank");
  if (upd.dtype() != x.dtype()) return InvalidArgument(ctx.node().Describe() + ": data and updates have different types");
  DOPT_ASSIGN_OR_RETURN(ScatterReduction red, GetScatterReduction(ctx.node()));
  DOPT_ASSIGN_OR_RETURN(int64_t axis_attr, ctx.node().GetInt("axis", 0));
  DOPT_ASSIGN_OR_RETURN(int axis, NormalizeAxis(ctx.node(), axis_attr, rank));
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> ids, NormalizedIndices(ctx.node(), idx, [&](size_t) { return x.dim(axis); }));
  for (int d = 0; d < rank; ++d)
    if (d != axis && idx.dim(d) > x.dim(d)) return InvalidArgument(ctx.node().Describe() + ": indices exceed data");
  Tensor y = x.Clone();
  const auto xs = RowMajorStrides(x.shape());
  DOPT_RETURN_IF_ERROR(VisitNumericOrBoolDType(x.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    const T* up = upd.data<T>();
    T* yp = y.data<T>();
    for (int64_t i = 0; i < upd.numel(); ++i) {
      int64_t r = i, off = 0;
      for (int d = rank - 1; d >= 0; --d) {
        const int64_t p = r % idx.dim(d);
        r /= idx.dim(d);
        off += (d == axis ? ids[i] : p) * xs[d];
      }
      yp[off] = ApplyScatterReduction<T>(red, yp[off], up[i]);
    }
    return Status::Ok();
  }));
  if (y.dtype() == DType::kBool) NormalizeBools(&y);  // add/mul on bools: or/and
  ctx.SetOutput(0, std::move(y));
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_ScatterElements() {
  static const OpDef def{
      .name = "ScatterElements",
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
