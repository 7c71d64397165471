// GatherElements: y[p] = data[p with p[axis] replaced by indices[p]]; y has indices' shape
// (same rank as data; negative indices count from the end). Only selects elements of data:
// int8 in -> int8 out on the same scale is exact.
#include "ops/gather_scatter_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kInt32, DType::kInt64}));
  const ValueInfo& x = ctx.input(0);
  const ValueInfo& idx = ctx.input(1);
  if (x.rank_known && idx.rank_known && x.shape.size() != idx.shape.size())
    return InvalidArgument(ctx.node().Describe() + ": data and indices must have the same rank");
  if (idx.rank_known) ctx.SetOutput(0, x.dtype, idx.shape);
  else ctx.SetOutputUnknownRank(0, x.dtype);
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& idx = ctx.input(1);
  const int rank = x.rank();
  if (idx.rank() != rank || rank == 0) return InvalidArgument(ctx.node().Describe() + ": data and indices must have the same rank >= 1");
  DOPT_ASSIGN_OR_RETURN(int64_t axis_attr, ctx.node().GetInt("axis", 0));
  DOPT_ASSIGN_OR_RETURN(int axis, NormalizeAxis(ctx.node(), axis_attr, rank));
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> ids, NormalizedIndices(ctx.node(), idx, [&](size_t) { return x.dim(axis); }));
  for (int d = 0; d < rank; ++d)
    if (d != axis && idx.dim(d) > x.dim(d)) return InvalidArgument(ctx.node().Describe() + ": indices exceed data");
  Tensor& y = ctx.OutputUninitialized(0, x.dtype(), idx.shape());
  const auto xs = RowMajorStrides(x.shape());
  const bool ok = DispatchByElemSize(DTypeSize(x.dtype()), [&](auto tag) {
    using T = decltype(tag);
    const T* xp = static_cast<const T*>(x.raw());
    T* yp = static_cast<T*>(y.raw());
    ParallelForOrInline(ctx.pool(), y.numel(), 1 << 14, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        int64_t r = i, off = 0;
        for (int d = rank - 1; d >= 0; --d) {
          const int64_t p = r % idx.dim(d);
          r /= idx.dim(d);
          off += (d == axis ? ids[i] : p) * xs[d];
        }
        yp[i] = xp[off];
      }
    });
  });
  if (!ok) return InvalidArgument(ctx.node().Describe() + ": unsupported type " + DTypeName(x.dtype()));
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_GatherElements() {
  static const OpDef def{
      .name = "GatherElements",
      .min_inputs = 2,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 11; 13: bfloat16"),
      .quant = SharesInputScale(),  // selects elements of data
  };
  return def;
}

}  // namespace dopt
