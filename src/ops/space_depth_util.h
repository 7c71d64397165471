// Shared by DepthToSpace and SpaceToDepth: the blocksize attribute and an element-moving loop.
#pragma once

#include <string>

#include "ops/op_util.h"

namespace dopt {

// The required `blocksize` attribute, >= 1.
inline StatusOr<int64_t> GetBlockSize(const Node& node) {
  if (!node.HasAttr("blocksize")) return InvalidArgument(node.Describe() + ": missing attribute blocksize");
  DOPT_ASSIGN_OR_RETURN(int64_t b, node.GetInt("blocksize", 0));
  if (b < 1) return InvalidArgument(node.Describe() + ": blocksize must be >= 1, got " + std::to_string(b));
  return b;
}

// Fills y (rows x cols elements, row-major) with y[r, c] = x[src(r, c)], for any element size;
// rows are split across the pool (each element is written once, so any thread count gives the
// same result).
template <typename F>
Status MoveRows(KernelContext& ctx, const Tensor& x, Tensor* y, int64_t rows, int64_t cols, F src) {
  if (rows * cols == 0) return Status::Ok();
  bool ok = DispatchByElemSize(DTypeSize(x.dtype()), [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    T* yp = y->data<T>();
    ParallelForOrInline(ctx.pool(), rows, std::max<int64_t>(1, (1 << 14) / cols), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r)
        for (int64_t c = 0; c < cols; ++c) yp[r * cols + c] = xp[src(r, c)];
    });
  });
  if (!ok) return InvalidArgument(ctx.node().Describe() + ": unsupported type " + DTypeName(x.dtype()));
  return Status::Ok();
}

}  // namespace dopt
