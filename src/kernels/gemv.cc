#include "kernels/gemv.h"

#include <algorithm>

#include "common/kernel_options.h"
#include "kernels/clones.h"

#if defined(__x86_64__) && defined(__GNUC__)
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12's _mm512_undefined_* (as in calib/histogram.cc)
#endif
#include <immintrin.h>
#define DOPT_GEMV_WIDE 1
#endif

namespace dopt {
namespace kernels {

namespace {

// Output j of a block: alpha * s (+ y[j] when beta is 1; the compiler may contract it to one FMA,
// the same for every j).
inline void Store(float* y, float s, float alpha, float beta) { *y = beta == 0.f ? alpha * s : alpha * s + *y; }

#if defined(DOPT_GEMV_WIDE)
// Each output is one FMA chain per vector lane over k (lane l takes k = l, l + W, ...), then the
// lanes' fixed-order reduction: the same bits wherever the output sits in a block.

// Rows n.. of B for one pass: four row pointers (past n1 - 1 they repeat the last row, whose
// result is dropped) and how many of them are real.
inline int Rows(const float* B, int64_t ldb, int64_t n, int64_t n1, const float** b0, const float** b1,
                const float** b2, const float** b3) {
  const int rows = (int)std::min<int64_t>(4, n1 - n);
  const float* last = B + (n + rows - 1) * ldb;
  *b0 = B + n * ldb;
  *b1 = rows > 1 ? *b0 + ldb : last;
  *b2 = rows > 2 ? *b0 + 2 * ldb : last;
  *b3 = rows > 3 ? *b0 + 3 * ldb : last;
  return rows;
}

// trans_b: y[n] = x . B[n, :], rows [n0, n1), four rows per pass over x (each row's sum the
// same wherever it sits in a pass).
__attribute__((target("avx512f"))) void DotRowsAvx512(const float* x, const float* B, int64_t ldb, int64_t K,
                                                      int64_t n0, int64_t n1, float alpha, float beta, float* y) {
  const __mmask16 tail = (__mmask16)((1u << (K % 16)) - 1);
  const int64_t kv = K / 16 * 16;
  for (int64_t n = n0; n < n1; n += 4) {
    const float *b0, *b1, *b2, *b3;
    const int rows = Rows(B, ldb, n, n1, &b0, &b1, &b2, &b3);
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t k = 0; k < kv; k += 16) {
      const __m512 xv = _mm512_loadu_ps(x + k);
      a0 = _mm512_fmadd_ps(xv, _mm512_loadu_ps(b0 + k), a0);
      a1 = _mm512_fmadd_ps(xv, _mm512_loadu_ps(b1 + k), a1);
      a2 = _mm512_fmadd_ps(xv, _mm512_loadu_ps(b2 + k), a2);
      a3 = _mm512_fmadd_ps(xv, _mm512_loadu_ps(b3 + k), a3);
    }
    if (tail) {
      const __m512 xv = _mm512_maskz_loadu_ps(tail, x + kv);
      a0 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(tail, b0 + kv), a0);
      a1 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(tail, b1 + kv), a1);
      a2 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(tail, b2 + kv), a2);
      a3 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(tail, b3 + kv), a3);
    }
    const float sums[4] = {_mm512_reduce_add_ps(a0), _mm512_reduce_add_ps(a1), _mm512_reduce_add_ps(a2),
                           _mm512_reduce_add_ps(a3)};
    for (int r = 0; r < rows; ++r) Store(y + n + r, sums[r], alpha, beta);
  }
}

// The AVX2 + FMA versions: the same with 8 lanes.
__attribute__((target("avx2,fma"))) float ReduceAvx2(__m256 v) {
  alignas(32) float s[8];
  _mm256_store_ps(s, v);
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

__attribute__((target("avx2,fma"))) void DotRowsAvx2(const float* x, const float* B, int64_t ldb, int64_t K,
                                                     int64_t n0, int64_t n1, float alpha, float beta, float* y) {
  const int64_t kv = K / 8 * 8;
  alignas(32) int32_t lanes[8];
  for (int l = 0; l < 8; ++l) lanes[l] = l < K % 8 ? -1 : 0;
  const __m256i tail = _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes));
  const bool has_tail = K % 8 != 0;
  for (int64_t n = n0; n < n1; n += 4) {
    const float *b0, *b1, *b2, *b3;
    const int rows = Rows(B, ldb, n, n1, &b0, &b1, &b2, &b3);
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t k = 0; k < kv; k += 8) {
      const __m256 xv = _mm256_loadu_ps(x + k);
      a0 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(b0 + k), a0);
      a1 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(b1 + k), a1);
      a2 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(b2 + k), a2);
      a3 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(b3 + k), a3);
    }
    if (has_tail) {
      const __m256 xv = _mm256_maskload_ps(x + kv, tail);
      a0 = _mm256_fmadd_ps(xv, _mm256_maskload_ps(b0 + kv, tail), a0);
      a1 = _mm256_fmadd_ps(xv, _mm256_maskload_ps(b1 + kv, tail), a1);
      a2 = _mm256_fmadd_ps(xv, _mm256_maskload_ps(b2 + kv, tail), a2);
      a3 = _mm256_fmadd_ps(xv, _mm256_maskload_ps(b3 + kv, tail), a3);
    }
    const float sums[4] = {ReduceAvx2(a0), ReduceAvx2(a1), ReduceAvx2(a2), ReduceAvx2(a3)};
    for (int r = 0; r < rows; ++r) Store(y + n + r, sums[r], alpha, beta);
  }
}

#endif

}  // namespace

bool SgemvConstantB(ThreadPool* pool, bool trans_b, int64_t K, int64_t N, float alpha, const float* x,
                    const float* B, int64_t ldb, float beta, float* y) {
#if defined(DOPT_GEMV_WIDE)
  if (!trans_b || K <= 0 || N <= 0 || (beta != 0.f && beta != 1.f) || ReferenceKernelsForced()) return false;
  const SimdIsa isa = CpuSimdIsa();
  if (isa == SimdIsa::kBase || !__builtin_cpu_supports("fma")) return false;
  using Fn = void (*)(const float*, const float*, int64_t, int64_t, int64_t, int64_t, float, float, float*);
  const Fn fn = isa == SimdIsa::kAvx512 ? DotRowsAvx512 : DotRowsAvx2;
  constexpr int64_t kBlock = 256;  // outputs per task: fixed by N
  const int64_t blocks = (N + kBlock - 1) / kBlock;
  auto run = [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) fn(x, B, ldb, K, b * kBlock, std::min(N, (b + 1) * kBlock), alpha, beta, y);
  };
  if (pool && blocks > 1) pool->ParallelFor(blocks, 1, run);
  else run(0, blocks);
  return true;
#else
  (void)pool, (void)trans_b, (void)K, (void)N, (void)alpha, (void)x, (void)B, (void)ldb, (void)beta, (void)y;
  return false;
#endif
}

}  // namespace kernels
}  // namespace dopt
