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

// trans_b: y[n] = x . B[n, :], rows [n0, n1), four rows per pass over x.
__attribute__((target("avx512f"))) void DotRowsAvx512(const float* x, const float* B, int64_t ldb, int64_t K,
                                                      int64_t n0, int64_t n1, float alpha, float beta, float* y) {
  const __mmask16 tail = (__mmask16)((1u << (K % 16)) - 1);
  const int64_t kv = K / 16 * 16;
  int64_t n = n0;
  for (; n + 4 <= n1; n += 4) {
    const float* b = B + n * ldb;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t k = 0; k < kv; k += 16) {
      const __m512 xv = _mm512_loadu_ps(x + k);
      a0 = _mm512_fmadd_ps(xv, _mm512_loadu_ps(b + k), a0);
      a1 = _mm512_fmadd_ps(xv, _mm512_loadu_ps(b + ldb + k), a1);
      a2 = _mm512_fmadd_ps(xv, _mm512_loadu_ps(b + 2 * ldb + k), a2);
      a3 = _mm512_fmadd_ps(xv, _mm512_loadu_ps(b + 3 * ldb + k), a3);
    }
    if (tail) {
      const __m512 xv = _mm512_maskz_loadu_ps(tail, x + kv);
      a0 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(tail, b + kv), a0);
      a1 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(tail, b + ldb + kv), a1);
      a2 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(tail, b + 2 * ldb + kv), a2);
      a3 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(tail, b + 3 * ldb + kv), a3);
    }
    Store(y + n, _mm512_reduce_add_ps(a0), alpha, beta);
    Store(y + n + 1, _mm512_reduce_add_ps(a1), alpha, beta);
    Store(y + n + 2, _mm512_reduce_add_ps(a2), alpha, beta);
    Store(y + n + 3, _mm512_reduce_add_ps(a3), alpha, beta);
  }
  for (; n < n1; ++n) {
    const float* b = B + n * ldb;
    __m512 a0 = _mm512_setzero_ps();
    for (int64_t k = 0; k < kv; k += 16) a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + k), _mm512_loadu_ps(b + k), a0);
    if (tail) a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, x + kv), _mm512_maskz_loadu_ps(tail, b + kv), a0);
    Store(y + n, _mm512_reduce_add_ps(a0), alpha, beta);
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
  int64_t n = n0;
  for (; n + 4 <= n1; n += 4) {
    const float* b = B + n * ldb;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t k = 0; k < kv; k += 8) {
      const __m256 xv = _mm256_loadu_ps(x + k);
      a0 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(b + k), a0);
      a1 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(b + ldb + k), a1);
      a2 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(b + 2 * ldb + k), a2);
      a3 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(b + 3 * ldb + k), a3);
    }
    if (has_tail) {
      const __m256 xv = _mm256_maskload_ps(x + kv, tail);
      a0 = _mm256_fmadd_ps(xv, _mm256_maskload_ps(b + kv, tail), a0);
      a1 = _mm256_fmadd_ps(xv, _mm256_maskload_ps(b + ldb + kv, tail), a1);
      a2 = _mm256_fmadd_ps(xv, _mm256_maskload_ps(b + 2 * ldb + kv, tail), a2);
      a3 = _mm256_fmadd_ps(xv, _mm256_maskload_ps(b + 3 * ldb + kv, tail), a3);
    }
    Store(y + n, ReduceAvx2(a0), alpha, beta);
    Store(y + n + 1, ReduceAvx2(a1), alpha, beta);
    Store(y + n + 2, ReduceAvx2(a2), alpha, beta);
    Store(y + n + 3, ReduceAvx2(a3), alpha, beta);
  }
  for (; n < n1; ++n) {
    const float* b = B + n * ldb;
    __m256 a0 = _mm256_setzero_ps();
    for (int64_t k = 0; k < kv; k += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), _mm256_loadu_ps(b + k), a0);
    if (has_tail) a0 = _mm256_fmadd_ps(_mm256_maskload_ps(x + kv, tail), _mm256_maskload_ps(b + kv, tail), a0);
    Store(y + n, ReduceAvx2(a0), alpha, beta);
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
