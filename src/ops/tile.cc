// Tile: repeats x `repeats[d]` times along each dim d (repeats: int64, one per dim of x).
// Only copies elements, so int8 in -> int8 out on the same scale is exact.
#include <algorithm>
#include <cstring>

#include "ops/logic_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kInt64}));
  const ValueInfo& x = ctx.input(0);
  const ValueInfo& r = ctx.input(1);
  if (!x.rank_known) {
    ctx.SetOutputUnknownRank(0, x.dtype);
    return Status::Ok();
  }
  Shape out(x.shape.size(), -1);
  if (r.value) {
    std::vector<int64_t> reps = r.value->ToInt64Vector();
    if (reps.size() != x.shape.size()) {
      return InvalidArgument(ctx.node().Describe() + ": repeats has " + std::to_string(reps.size()) +
                             " entries for an input of rank " + std::to_string(x.shape.size()));
    }
    for (size_t d = 0; d < reps.size(); ++d) {
      if (reps[d] < 0) return InvalidArgument(ctx.node().Describe() + ": negative repeat");
      if (x.shape[d] < 0) {
        out[d] = reps[d] == 0 ? 0 : -1;
      } else if (__builtin_mul_overflow(x.shape[d], reps[d], &out[d])) {
        return InvalidArgument(ctx.node().Describe() + ": dim " + std::to_string(d) + " times its repeat " +
                               std::to_string(reps[d]) + " overflows int64");
      }
    }
  }
  ctx.SetOutput(0, x.dtype, out);
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  std::vector<int64_t> reps = ctx.input(1).ToInt64Vector();
  const int rank = x.rank();
  if ((int)reps.size() != rank) return InvalidArgument(ctx.node().Describe() + ": repeats must have one entry per dim");
  Shape out(rank);
  for (int d = 0; d < rank; ++d) {
    if (reps[d] < 0) return InvalidArgument(ctx.node().Describe() + ": negative repeat");
    out[d] = x.dim(d) * reps[d];
  }
  Tensor& y = ctx.OutputUninitialized(0, x.dtype(), out);
  const int64_t n = y.numel();
  if (n == 0) return Status::Ok();
  if (rank == 0) {  // a scalar: no dims to repeat
    std::memcpy(y.raw(), x.raw(), x.nbytes());
    return Status::Ok();
  }
  std::vector<int64_t> xstride(rank, 1);
  for (int d = rank - 2; d >= 0; --d) xstride[d] = xstride[d + 1] * x.dim(d + 1);
  const bool ok = DispatchByElemSize(DTypeSize(x.dtype()), [&](auto tag) {
    using T = decltype(tag);
    const T* xp = static_cast<const T*>(x.raw());
    T* yp = static_cast<T*>(y.raw());
    // Row by row of the last dim: the source row found once, then copied reps[last] times.
    const int64_t in_last = x.dim(rank - 1), out_last = out[rank - 1], rows = n / out_last;
    ParallelForOrInline(ctx.pool(), rows, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, out_last)),
                        [&](int64_t b, int64_t e) {
                          for (int64_t row = b; row < e; ++row) {
                            int64_t r = row, off = 0;
                            for (int d = rank - 2; d >= 0; --d) {
                              off += (r % out[d]) % x.dim(d) * xstride[d];
                              r /= out[d];
                            }
                            const T* src = xp + off;
                            T* dst = yp + row * out_last;
                            if (in_last == 1) {
                              std::fill(dst, dst + out_last, src[0]);
                            } else {
                              for (int64_t k = 0; k < out_last; k += in_last)
                                std::memcpy(dst + k, src, (size_t)in_last * sizeof(T));
                            }
                          }
                        });
  });
  if (!ok) return InvalidArgument(ctx.node().Describe() + ": unsupported type " + DTypeName(x.dtype()));
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_Tile() {
  static const OpDef def{
      .name = "Tile",
      .min_inputs = 2,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("7: repeats is an input (dopt's oldest opset); 13: bfloat16").Since(6),
      .quant = SharesInputScale(),  // copies elements of x
  };
  return def;
}

}  // namespace dopt
