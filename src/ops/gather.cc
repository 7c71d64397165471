// Gather: picks slices of `data` along `axis` at int32/int64 `indices` (negative counts from
// the end); output shape data[:axis] + indices.shape + data[axis+1:]. Any data dtype.
#include <cstring>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kInt32, DType::kInt64}));
  const ValueInfo& x = ctx.input(0);
  const ValueInfo& idx = ctx.input(1);
  if (!x.rank_known || !idx.rank_known) {
    ctx.SetOutputUnknownRank(0, x.dtype);
    return Status::Ok();
  }
  DOPT_ASSIGN_OR_RETURN(int64_t axis_attr, ctx.node().GetInt("axis", 0));
  const int rank = (int)x.shape.size();
  if (rank == 0) return InvalidArgument(ctx.node().Describe() + ": data must have rank >= 1");
  DOPT_ASSIGN_OR_RETURN(int axis, NormalizeAxis(ctx.node(), axis_attr, rank));
  Shape out(x.shape.begin(), x.shape.begin() + axis);
  out.insert(out.end(), idx.shape.begin(), idx.shape.end());
  out.insert(out.end(), x.shape.begin() + axis + 1, x.shape.end());
  ctx.SetOutput(0, x.dtype, out);
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  const Tensor& x = ctx.input(0);
  const Tensor& idx = ctx.input(1);
  if (idx.dtype() != DType::kInt32 && idx.dtype() != DType::kInt64) {
    return InvalidArgument(node.Describe() + ": indices must be int32 or int64, got " + DTypeName(idx.dtype()));
  }
  DOPT_ASSIGN_OR_RETURN(int64_t axis_attr, node.GetInt("axis", 0));
  const int rank = x.rank();
  if (rank == 0) return InvalidArgument(node.Describe() + ": data must have rank >= 1");
  DOPT_ASSIGN_OR_RETURN(int axis, NormalizeAxis(node, axis_attr, rank));
  std::vector<int64_t> ids = idx.ToInt64Vector();
  const int64_t n = x.dim(axis);
  for (int64_t& i : ids) {
    if (i < -n || i >= n) {
      return InvalidArgument(node.Describe() + ": index " + std::to_string(i) + " is out of range for axis " +
                             std::to_string(axis) + " of size " + std::to_string(n));
    }
    if (i < 0) i += n;
  }
  Shape out(x.shape().begin(), x.shape().begin() + axis);
  out.insert(out.end(), idx.shape().begin(), idx.shape().end());
  out.insert(out.end(), x.shape().begin() + axis + 1, x.shape().end());
  Tensor& y = ctx.Output(0, x.dtype(), out);
  if (y.numel() == 0) return Status::Ok();
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= x.dim(d);
  for (int d = axis + 1; d < rank; ++d) inner *= x.dim(d);
  const size_t row = (size_t)inner * DTypeSize(x.dtype());
  const int64_t k = (int64_t)ids.size();
  const uint8_t* xp = static_cast<const uint8_t*>(x.raw());
  uint8_t* yp = static_cast<uint8_t*>(y.raw());
  auto body = [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t o = t / k, j = t % k;
      std::memcpy(yp + t * row, xp + (o * n + ids[j]) * row, row);
    }
  };
  const int64_t total = outer * k;
  if (ctx.pool()) ctx.pool()->ParallelFor(total, std::max<int64_t>(1, (1 << 16) / (int64_t)std::max<size_t>(row, 1)), body);
  else body(0, total);
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_Gather() {
  static const OpDef def{
      .name = "Gather",
      .min_inputs = 2,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("11: negative indices allowed; 13: types").Since(1),
      .quant = SharesInputScale(),  // selects elements of data (input 0)
  };
  return def;
}

}  // namespace dopt
