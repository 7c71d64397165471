// GatherND: indices' last dim m indexes the dims batch_dims..batch_dims+m-1 of data; y has shape
// indices.shape[:-1] + data.shape[batch_dims+m:] and holds the selected slices (the first
// batch_dims dims of data and indices are matched one to one). Negative indices count from the
// end. Only selects elements of data: int8 in -> int8 out on the same scale is exact.
#include <cstring>

#include "ops/gather_scatter_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kInt64}));
  const ValueInfo& x = ctx.input(0);
  const ValueInfo& idx = ctx.input(1);
  DOPT_ASSIGN_OR_RETURN(int64_t b, ctx.node().GetInt("batch_dims", 0));
  if (!x.rank_known || !idx.rank_known || idx.shape.empty() || idx.shape.back() < 0) {
    ctx.SetOutputUnknownRank(0, x.dtype);
    return Status::Ok();
  }
  const int64_t m = idx.shape.back();
  if (b < 0 || b >= (int64_t)idx.shape.size() || b + m > (int64_t)x.shape.size())
    return InvalidArgument(ctx.node().Describe() + ": indices' last dim and batch_dims do not fit data's rank");
  Shape out(idx.shape.begin(), idx.shape.end() - 1);
  out.insert(out.end(), x.shape.begin() + b + m, x.shape.end());
  ctx.SetOutput(0, x.dtype, out);
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& idx = ctx.input(1);
  DOPT_ASSIGN_OR_RETURN(int64_t b, ctx.node().GetInt("batch_dims", 0));
  if (idx.rank() < 1) return InvalidArgument(ctx.node().Describe() + ": indices must have rank >= 1");
  const int64_t m = idx.dim(idx.rank() - 1);
  if (b < 0 || b >= idx.rank() || b + m > x.rank())
    return InvalidArgument(ctx.node().Describe() + ": indices' last dim and batch_dims do not fit data's rank");
  for (int d = 0; d < b; ++d)
    if (idx.dim(d) != x.dim(d)) return InvalidArgument(ctx.node().Describe() + ": batch dims of data and indices differ");
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> ids,
                        NormalizedIndices(ctx.node(), idx, [&](size_t i) { return x.dim((int)(b + (int64_t)i % m)); }));
  Shape out(idx.shape().begin(), idx.shape().end() - 1);
  out.insert(out.end(), x.shape().begin() + b + m, x.shape().end());
  Tensor& y = ctx.OutputUninitialized(0, x.dtype(), out);
  int64_t batch = 1, slice = 1, per_batch = 1;  // per_batch: elements of data per batch entry
  for (int d = 0; d < b; ++d) batch *= x.dim(d);
  for (int d = (int)(b + m); d < x.rank(); ++d) slice *= x.dim(d);
  for (int d = (int)b; d < x.rank(); ++d) per_batch *= x.dim(d);
  const int64_t rows = m ? (int64_t)ids.size() / m : NumElements(Shape(idx.shape().begin(), idx.shape().end() - 1));
  const int64_t rows_per_batch = batch ? rows / batch : 0;
  std::vector<int64_t> st(m, slice);  // element stride of each indexed dim
  for (int64_t k = m - 2; k >= 0; --k) st[k] = st[k + 1] * x.dim((int)(b + k + 1));
  const size_t es = DTypeSize(x.dtype());
  const uint8_t* xp = static_cast<const uint8_t*>(x.raw());
  uint8_t* yp = static_cast<uint8_t*>(y.raw());
  for (int64_t r = 0; r < rows; ++r) {
    int64_t off = (rows_per_batch ? r / rows_per_batch : 0) * per_batch;
    for (int64_t k = 0; k < m; ++k) off += ids[r * m + k] * st[k];
    std::memcpy(yp + r * slice * es, xp + off * es, (size_t)slice * es);
  }
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_GatherND() {
  static const OpDef def{
      .name = "GatherND",
      .min_inputs = 2,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 11; 12: batch_dims (default 0); 13: bfloat16"),
      .quant = SharesInputScale(),  // selects elements of data
  };
  return def;
}

}  // namespace dopt
