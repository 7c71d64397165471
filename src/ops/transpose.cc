// Transpose: permutes dims by `perm` (default: reversed). Any dtype; size-1 dims are dropped
// and dims that stay adjacent are merged before copying, so NHWC<->NCHW becomes a (batched)
// 2-D transpose, done in cache-sized tiles.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "kernels/clones.h"
#include "ops/op_util.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define DOPT_TRANSPOSE_AVX2 1
#endif

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

// dst [cols, R] from src [R, cols] over columns [c0, c1): interleaves R planes (NCHW -> NHWC of
// an image with R channels); R known at compile time, so the compiler vectorizes the stores.
template <typename T, int R>
void Interleave(const T* src, T* dst, int64_t cols, int64_t c0, int64_t c1) {
  for (int64_t c = c0; c < c1; ++c)
    for (int r = 0; r < R; ++r) dst[c * R + r] = src[r * cols + c];
}

template <typename T, int R>
void InterleaveAll(const T* src, T* dst, int64_t batch, int64_t cols, ThreadPool* pool) {
  const int64_t chunks = (cols + 4095) / 4096;
  auto body = [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t bi = t / chunks, c0 = t % chunks * 4096;
      Interleave<T, R>(src + bi * R * cols, dst + bi * R * cols, cols, c0, std::min(cols, c0 + 4096));
    }
  };
  if (pool) pool->ParallelFor(batch * chunks, 1, body);
  else body(0, batch * chunks);
}

// Copies src [rows, cols] to dst [cols, rows], `batch` times.
#if defined(DOPT_TRANSPOSE_AVX2)
// dst[c * ld_dst + r] = src[r * ld_src + c] for an 8 x 8 block of 32-bit elements: unpacks and
// lane shuffles only, so every bit pattern (NaN payloads included) moves unchanged.
__attribute__((target("avx2"))) void Transpose8x8(const uint32_t* src, int64_t ld_src, uint32_t* dst,
                                                   int64_t ld_dst) {
  __m256 r[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(reinterpret_cast<const float*>(src + i * ld_src));
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  const __m256 o[8] = {_mm256_permute2f128_ps(u0, u4, 0x20), _mm256_permute2f128_ps(u1, u5, 0x20),
                       _mm256_permute2f128_ps(u2, u6, 0x20), _mm256_permute2f128_ps(u3, u7, 0x20),
                       _mm256_permute2f128_ps(u0, u4, 0x31), _mm256_permute2f128_ps(u1, u5, 0x31),
                       _mm256_permute2f128_ps(u2, u6, 0x31), _mm256_permute2f128_ps(u3, u7, 0x31)};
  for (int i = 0; i < 8; ++i) _mm256_storeu_ps(reinterpret_cast<float*>(dst + i * ld_dst), o[i]);
}
#endif

// One tile of a [rows, cols] matrix: rows [r0, r1) x cols [c0, c1) into dst ([cols, rows]). With
// `wide` (32-bit elements, AVX2), whole 8 x 8 blocks go through Transpose8x8, the edges one
// element at a time.
template <typename T>
void TransposeTile(const T* s, T* d, int64_t rows, int64_t cols, int64_t r0, int64_t r1, int64_t c0, int64_t c1,
                   bool wide) {
  int64_t r8 = r0, c8 = c0;
#if defined(DOPT_TRANSPOSE_AVX2)
  if constexpr (sizeof(T) == 4) {
    if (wide) {
      r8 = r0 + (r1 - r0) / 8 * 8;
      c8 = c0 + (c1 - c0) / 8 * 8;
      for (int64_t r = r0; r < r8; r += 8)
        for (int64_t c = c0; c < c8; c += 8)
          Transpose8x8(reinterpret_cast<const uint32_t*>(s + r * cols + c), cols,
                       reinterpret_cast<uint32_t*>(d + c * rows + r), rows);
    }
  }
#endif
  // What the blocks left: columns [c8, c1) of every row, then rows [r8, r1) of columns [c0, c8).
  for (int64_t c = c8; c < c1; ++c) {
    T* drow = d + c * rows;
    for (int64_t r = r0; r < r1; ++r) drow[r] = s[r * cols + c];
  }
  for (int64_t c = c0; c < c8; ++c) {
    T* drow = d + c * rows;
    for (int64_t r = r8; r < r1; ++r) drow[r] = s[r * cols + c];
  }
}

template <typename T>
void Transpose2D(const T* src, T* dst, int64_t batch, int64_t rows, int64_t cols, ThreadPool* pool) {
  switch (rows) {  // a few rows: an image's channels
    case 2: return InterleaveAll<T, 2>(src, dst, batch, cols, pool);
    case 3: return InterleaveAll<T, 3>(src, dst, batch, cols, pool);
    case 4: return InterleaveAll<T, 4>(src, dst, batch, cols, pool);
    default: break;
  }
  constexpr int64_t kTile = 32;
  const int64_t col_tiles = (cols + kTile - 1) / kTile;
  const bool wide = sizeof(T) == 4 && rows >= 8 && cols >= 8 && kernels::CpuSimdIsa() >= kernels::SimdIsa::kAvx2;
  // Rows are cut into bands so that narrow matrices (e.g. [H*W, 3]) still spread over threads.
  constexpr int64_t kBand = 8 * kTile;
  const int64_t bands = (rows + kBand - 1) / kBand;
  const int64_t tasks = batch * col_tiles * bands;
  auto body = [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t bi = t / (col_tiles * bands), rest = t % (col_tiles * bands);
      const int64_t c0 = (rest / bands) * kTile, band = rest % bands;
      const T* s = src + bi * rows * cols;
      T* d = dst + bi * rows * cols;
      const int64_t c1 = std::min(cols, c0 + kTile);
      const int64_t rb = band * kBand, re = std::min(rows, rb + kBand);
      for (int64_t r0 = rb; r0 < re; r0 += kTile) {
        const int64_t r1 = std::min(re, r0 + kTile);
        TransposeTile(s, d, rows, cols, r0, r1, c0, c1, wide);
      }
    }
  };
  const int64_t per_task = std::max<int64_t>(1, std::min(rows, kBand) * std::min(cols, kTile));
  if (pool) pool->ParallelFor(tasks, std::max<int64_t>(1, (1 << 14) / per_task), body);
  else body(0, tasks);
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
      Transpose2D(src, dst, 1, gsize[1], gsize[0], ctx.pool());
      return;
    }
    if (g == 3 && order[0] == 0 && order[1] == 2 && order[2] == 1) {
      Transpose2D(src, dst, gsize[0], gsize[2], gsize[1], ctx.pool());
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
