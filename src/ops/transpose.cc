// Transpose: permutes dims by `perm` (default: reversed). Any dtype; size-1 dims are dropped
// and dims that stay adjacent are merged before copying, so NHWC<->NCHW becomes a (batched)
// 2-D transpose, done in cache-sized tiles.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "kernels/transpose.h"
#include "ops/op_util.h"

namespace dopt {
namespace {

StatusOr<std::vector<int>> GetPerm(const Node& node, int rank) {
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> p, node.GetInts("perm"));
  std::vector<int> perm(rank);
  if (!node.HasAttr("perm")) {
    for (int i = 0; i < rank; ++i) perm[i] = rank - 1 - i;
    return perm;
  }
  if ((int)p.size() != rank) {
    return InvalidArgument(node.Describe() + ": perm has " + std::to_string(p.size()) + " entries for rank " +
                           std::to_string(rank));
  }
  std::vector<bool> seen(rank, false);
  for (int i = 0; i < rank; ++i) {
    int64_t a = p[i] < 0 ? p[i] + rank : p[i];
    if (a < 0 || a >= rank || seen[a]) {
      return InvalidArgument(node.Describe() + ": perm is not a permutation of 0.." + std::to_string(rank - 1));
    }
    seen[a] = true;
    perm[i] = (int)a;
  }
  return perm;
}

Status Infer(InferContext& ctx) {
  const ValueInfo& x = ctx.input(0);
  if (!x.rank_known) {
    ctx.SetOutputUnknownRank(0, x.dtype);
    return Status::Ok();
  }
  const int rank = (int)x.shape.size();
  DOPT_ASSIGN_OR_RETURN(std::vector<int> perm, GetPerm(ctx.node(), rank));
  Shape out(rank);
  for (int i = 0; i < rank; ++i) out[i] = x.shape[perm[i]];
  ctx.SetOutput(0, x.dtype, out);
  return Status::Ok();
}

// General case: walks the output in order; in_strides[k] is the input stride of output dim k.
template <typename T>
void TransposeND(const T* src, T* dst, const Shape& out, const std::vector<int64_t>& in_strides, ThreadPool* pool) {
  const int rank = (int)out.size();
  const int64_t n = NumElements(out);
  const int64_t last = out[rank - 1], last_stride = in_strides[rank - 1];
  auto body = [&](int64_t b, int64_t e) {
    std::vector<int64_t> idx(rank, 0);
    int64_t r = b, off = 0;
    for (int d = rank - 1; d >= 0; --d) {
      idx[d] = r % out[d];
      r /= out[d];
      off += idx[d] * in_strides[d];
    }
    int64_t i = b;
    while (i < e) {
      int64_t run = std::min(last - idx[rank - 1], e - i);
      const T* s = src + off;
      T* d = dst + i;
      for (int64_t k = 0; k < run; ++k) d[k] = s[k * last_stride];
      i += run;
      idx[rank - 1] += run;
      off += run * last_stride;
      for (int dd = rank - 1; dd > 0 && idx[dd] == out[dd]; --dd) {
        off -= idx[dd] * in_strides[dd];
        idx[dd] = 0;
        ++idx[dd - 1];
        off += in_strides[dd - 1];
      }
    }
  };
  if (pool) pool->ParallelFor(n, 1 << 14, body);
  else body(0, n);
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int rank = x.rank();
  DOPT_ASSIGN_OR_RETURN(std::vector<int> perm, GetPerm(ctx.node(), rank));
  Shape out(rank);
  for (int i = 0; i < rank; ++i) out[i] = x.dim(perm[i]);
  // Drop size-1 dims, then merge runs of input dims that stay adjacent in the output.
  std::vector<int> keep_in(rank, -1);
  Shape in_dims;
  for (int i = 0; i < rank; ++i) {
    if (x.dim(i) != 1) {
      keep_in[i] = (int)in_dims.size();
      in_dims.push_back(x.dim(i));
    }
  }
  std::vector<int> p;
  for (int i = 0; i < rank; ++i)
    if (keep_in[perm[i]] >= 0) p.push_back(keep_in[perm[i]]);
  // Merge: groups of consecutive p entries with p[k+1] == p[k] + 1.
  std::vector<std::vector<int>> groups;
  for (size_t k = 0; k < p.size(); ++k) {
    if (!groups.empty() && groups.back().back() + 1 == p[k]) groups.back().push_back(p[k]);
    else groups.push_back({p[k]});
  }
  // Each group becomes one input dim; order the groups by their first input dim.
  const int g = (int)groups.size();
  std::vector<int> order(g);
  for (int i = 0; i < g; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](int a, int b) { return groups[a][0] < groups[b][0]; });
  std::vector<int64_t> gsize(g, 1);
  for (int i = 0; i < g; ++i)
    for (int d : groups[i]) gsize[i] *= in_dims[d];
  std::vector<int64_t> gstride(g, 1);  // input stride of group i
  int64_t acc = 1;
  for (int k = g - 1; k >= 0; --k) {
    gstride[order[k]] = acc;
    acc *= gsize[order[k]];
  }
  bool identity = true;
  for (int i = 0; i < g; ++i)
    if (order[i] != i) identity = false;
  if (identity || x.numel() == 0) {
    ctx.SetOutput(0, x.Reshaped(out));
    return Status::Ok();
  }
  Tensor& y = ctx.OutputUninitialized(0, x.dtype(), out);
  bool ok = DispatchByElemSize(DTypeSize(x.dtype()), [&](auto tag) {
    using T = decltype(tag);
    const T* src = x.data<T>();
    T* dst = y.data<T>();
    // Batched 2-D: groups (A, C, B) in input order read as (A, B, C) in the output.
    if (g == 2) {
      kernels::Transpose2D(src, dst, 1, gsize[1], gsize[0], ctx.pool());
      return;
    }
    if (g == 3 && order[0] == 0 && order[1] == 2 && order[2] == 1) {
      kernels::Transpose2D(src, dst, gsize[0], gsize[2], gsize[1], ctx.pool());
      return;
    }
    TransposeND(src, dst, Shape(gsize.begin(), gsize.end()), gstride, ctx.pool());
  });
  if (!ok) return InvalidArgument(ctx.node().Describe() + ": unsupported type " + DTypeName(x.dtype()));
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_Transpose() {
  static const OpDef def{
      .name = "Transpose",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("13, 21: types only").Since(1),
      .quant = SharesInputScale(),  // moves elements
  };
  return def;
}

}  // namespace dopt
