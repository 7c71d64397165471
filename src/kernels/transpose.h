// Batched 2-D transposes ([rows, cols] -> [cols, rows]) of any element type, in cache-sized
// tiles: 8 x 8 AVX2 blocks for 32-bit elements, compile-time interleaves for 2-4 rows (an image's
// channels). Only moves bits. Used by the Transpose op and the convolutions' layout changes.
#pragma once

#include <algorithm>
#include <cstdint>

#include "common/thread_pool.h"
#include "kernels/clones.h"

namespace dopt {
namespace kernels {

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
#if defined(__x86_64__) && defined(__GNUC__)
#define DOPT_TRANSPOSE_AVX2 1
// dst[c * ld_dst + r] = src[r * ld_src + c] for an 8 x 8 block of 32-bit elements: unpacks and
// lane shuffles only, so every bit pattern (NaN payloads included) moves unchanged. AVX2 only.
void Transpose8x8(const uint32_t* src, int64_t ld_src, uint32_t* dst, int64_t ld_dst);
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
  const bool wide = sizeof(T) == 4 && rows >= 8 && cols >= 8 && CpuSimdIsa() >= SimdIsa::kAvx2;
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

}  // namespace kernels
}  // namespace dopt
