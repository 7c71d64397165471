#include "calib/histogram.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/clones.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*, which -Wmaybe-uninitialized flags.
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#define DOPT_HIST_WIDE 1  // AVX2 / AVX-512 versions, picked at run time
#endif

namespace dopt {

namespace {

constexpr float kFloatMax = std::numeric_limits<float>::max();

// min, max (NaN skipped: every comparison with NaN is false), largest finite |v| and the NaN
// count of data[0, n). SSE2 (every x86-64) four at a time; the same results as the scalar loop.
void ScanSse2(const float* data, int64_t n, float* lo_out, float* hi_out, float* abs_out, int64_t* nans_out) {
  float lo = std::numeric_limits<float>::infinity(), hi = -lo, finite_abs = 0;
  int64_t nans = 0, i = 0;
#if defined(__SSE2__)
  if (n >= 8) {
    __m128 vlo = _mm_set1_ps(lo), vhi = _mm_set1_ps(hi), vabs = _mm_setzero_ps();
    const __m128 sign = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff)), fmax = _mm_set1_ps(kFloatMax);
    // NaN count per lane (a true compare is all ones: its top bit is 1); a lane sees n / 4
    // values, so 32 bits hold it for any tensor up to 2^34 elements.
    __m128i vnan = _mm_setzero_si128();
    for (; i + 4 <= n; i += 4) {
      const __m128 v = _mm_loadu_ps(data + i);
      vnan = _mm_add_epi32(vnan, _mm_srli_epi32(_mm_castps_si128(_mm_cmpunord_ps(v, v)), 31));
      vlo = _mm_min_ps(v, vlo);  // v < lo ? v : lo
      vhi = _mm_max_ps(v, vhi);  // v > hi ? v : hi
      const __m128 a = _mm_and_ps(v, sign);
      vabs = _mm_max_ps(_mm_and_ps(a, _mm_cmple_ps(a, fmax)), vabs);  // non-finite -> 0
    }
    alignas(16) uint32_t c[4];
    _mm_store_si128(reinterpret_cast<__m128i*>(c), vnan);
    nans += (int64_t)c[0] + c[1] + c[2] + c[3];
    alignas(16) float l[4], h[4], a[4];
    _mm_store_ps(l, vlo);
    _mm_store_ps(h, vhi);
    _mm_store_ps(a, vabs);
    for (int k = 0; k < 4; ++k) {
      lo = l[k] < lo ? l[k] : lo;
      hi = h[k] > hi ? h[k] : hi;
      finite_abs = a[k] > finite_abs ? a[k] : finite_abs;
    }
  }
#endif
  for (; i < n; ++i) {
    const float v = data[i];
    nans += v != v;
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
    const float a = std::fabs(v);
    finite_abs = (a > finite_abs && a <= kFloatMax) ? a : finite_abs;
  }
  *lo_out = lo;
  *hi_out = hi;
  *abs_out = finite_abs;
  *nans_out = nans;
}

// The bin of each of d[0, m): floor((v + r) * scale) clamped to [0, nb - 1] (every finite v has
// |v| <= r, so (v + r) * scale >= 0 and truncation is floor; clamping before or after the
// truncation is the same), nb for NaN and the infinities. Computed in double like the
// definition, SSE2 two at a time.
void BinIndicesSse2(const float* d, int m, double r, double scale, int nb, int32_t* idx) {
  int i = 0;
#if defined(__SSE2__)
  const __m128 sign = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff)), fmax = _mm_set1_ps(kFloatMax);
  const __m128d vr = _mm_set1_pd(r), vs = _mm_set1_pd(scale), top = _mm_set1_pd(nb - 1), zero = _mm_setzero_pd();
  const __m128i extra = _mm_set1_epi32(nb);
  for (; i + 4 <= m; i += 4) {
    __m128 v = _mm_loadu_ps(d + i);
    const __m128 finite = _mm_cmple_ps(_mm_and_ps(v, sign), fmax);
    v = _mm_and_ps(v, finite);  // non-finite -> 0, binned to `extra` below
    __m128d x0 = _mm_mul_pd(_mm_add_pd(_mm_cvtps_pd(v), vr), vs);
    __m128d x1 = _mm_mul_pd(_mm_add_pd(_mm_cvtps_pd(_mm_movehl_ps(v, v)), vr), vs);
    x0 = _mm_min_pd(_mm_max_pd(x0, zero), top);
    x1 = _mm_min_pd(_mm_max_pd(x1, zero), top);
    __m128i b = _mm_unpacklo_epi64(_mm_cvttpd_epi32(x0), _mm_cvttpd_epi32(x1));
    const __m128i fin = _mm_castps_si128(finite);
    b = _mm_or_si128(_mm_and_si128(fin, b), _mm_andnot_si128(fin, extra));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(idx + i), b);
  }
#endif
  for (; i < m; ++i) {
    const float v = d[i];
    if (!(std::fabs(v) <= kFloatMax)) {
      idx[i] = nb;
      continue;
    }
    const int b = (int)(((double)v + r) * scale);
    idx[i] = b < 0 ? 0 : (b > nb - 1 ? nb - 1 : b);
  }
}

#if defined(DOPT_HIST_WIDE)
// The wide scans' end: the SSE2 scan of the tail, combined with the wide part's results.
void ScanTail(const float* data, int64_t n, float lo, float hi, float finite_abs, int64_t nans, float* lo_out,
              float* hi_out, float* abs_out, int64_t* nans_out) {
  float tlo, thi, tabs;
  int64_t tn;
  ScanSse2(data, n, &tlo, &thi, &tabs, &tn);
  *lo_out = tlo < lo ? tlo : lo;
  *hi_out = thi > hi ? thi : hi;
  *abs_out = tabs > finite_abs ? tabs : finite_abs;
  *nans_out = nans + tn;
}

// The same two functions on AVX2 (8 floats, 2 x 4 doubles) and AVX-512 (16 floats, 2 x 8
// doubles): the same operations per element (float -> double is exact, then one add, one
// multiply, clamps and truncation, never contracted to FMA), so the same bins; the tail goes
// to the SSE2 versions.
__attribute__((target("avx2"))) void ScanAvx2(const float* data, int64_t n, float* lo_out, float* hi_out,
                                               float* abs_out, int64_t* nans_out) {
  int64_t i = 0;
  float lo = std::numeric_limits<float>::infinity(), hi = -lo, finite_abs = 0;
  int64_t nans = 0;
  if (n >= 16) {
    __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi), vabs = _mm256_setzero_ps();
    const __m256 sign = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)), fmax = _mm256_set1_ps(kFloatMax);
    __m256i vnan = _mm256_setzero_si256();
    for (; i + 8 <= n; i += 8) {
      const __m256 v = _mm256_loadu_ps(data + i);
      vnan = _mm256_add_epi32(vnan, _mm256_srli_epi32(_mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)), 31));
      vlo = _mm256_min_ps(v, vlo);
      vhi = _mm256_max_ps(v, vhi);
      const __m256 a = _mm256_and_ps(v, sign);
      vabs = _mm256_max_ps(_mm256_and_ps(a, _mm256_cmp_ps(a, fmax, _CMP_LE_OQ)), vabs);
    }
    alignas(32) uint32_t c[8];
    alignas(32) float l[8], h[8], a[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(c), vnan);
    _mm256_store_ps(l, vlo);
    _mm256_store_ps(h, vhi);
    _mm256_store_ps(a, vabs);
    for (int k = 0; k < 8; ++k) {
      nans += c[k];
      lo = l[k] < lo ? l[k] : lo;
      hi = h[k] > hi ? h[k] : hi;
      finite_abs = a[k] > finite_abs ? a[k] : finite_abs;
    }
  }
  ScanTail(data + i, n - i, lo, hi, finite_abs, nans, lo_out, hi_out, abs_out, nans_out);
}

__attribute__((target("avx2"))) void BinIndicesAvx2(const float* d, int m, double r, double scale, int nb,
                                                     int32_t* idx) {
  int i = 0;
  const __m256 sign = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)), fmax = _mm256_set1_ps(kFloatMax);
  const __m256d vr = _mm256_set1_pd(r), vs = _mm256_set1_pd(scale), top = _mm256_set1_pd(nb - 1),
                zero = _mm256_setzero_pd();
  const __m256i extra = _mm256_set1_epi32(nb);
  for (; i + 8 <= m; i += 8) {
    __m256 v = _mm256_loadu_ps(d + i);
    const __m256 finite = _mm256_cmp_ps(_mm256_and_ps(v, sign), fmax, _CMP_LE_OQ);
    v = _mm256_and_ps(v, finite);
    __m256d x0 = _mm256_mul_pd(_mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), vr), vs);
    __m256d x1 = _mm256_mul_pd(_mm256_add_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), vr), vs);
    x0 = _mm256_min_pd(_mm256_max_pd(x0, zero), top);
    x1 = _mm256_min_pd(_mm256_max_pd(x1, zero), top);
    __m256i b = _mm256_set_m128i(_mm256_cvttpd_epi32(x1), _mm256_cvttpd_epi32(x0));
    b = _mm256_blendv_epi8(extra, b, _mm256_castps_si256(finite));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(idx + i), b);
  }
  BinIndicesSse2(d + i, m - i, r, scale, nb, idx + i);
}

__attribute__((target("avx512f"))) void ScanAvx512(const float* data, int64_t n, float* lo_out, float* hi_out,
                                                    float* abs_out, int64_t* nans_out) {
  int64_t i = 0;
  float lo = std::numeric_limits<float>::infinity(), hi = -lo, finite_abs = 0;
  int64_t nans = 0;
  if (n >= 32) {
    __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi), vabs = _mm512_setzero_ps();
    const __m512 fmax = _mm512_set1_ps(kFloatMax);
    for (; i + 16 <= n; i += 16) {
      const __m512 v = _mm512_loadu_ps(data + i);
      nans += __builtin_popcount((unsigned)_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q));
      vlo = _mm512_min_ps(v, vlo);
      vhi = _mm512_max_ps(v, vhi);
      const __m512 a = _mm512_abs_ps(v);
      vabs = _mm512_mask_max_ps(vabs, _mm512_cmp_ps_mask(a, fmax, _CMP_LE_OQ), a, vabs);
    }
    alignas(64) float l[16], h[16], a[16];
    _mm512_store_ps(l, vlo);
    _mm512_store_ps(h, vhi);
    _mm512_store_ps(a, vabs);
    for (int k = 0; k < 16; ++k) {
      lo = l[k] < lo ? l[k] : lo;
      hi = h[k] > hi ? h[k] : hi;
      finite_abs = a[k] > finite_abs ? a[k] : finite_abs;
    }
  }
  ScanTail(data + i, n - i, lo, hi, finite_abs, nans, lo_out, hi_out, abs_out, nans_out);
}

__attribute__((target("avx512f"))) void BinIndicesAvx512(const float* d, int m, double r, double scale, int nb,
                                                          int32_t* idx) {
  int i = 0;
  const __m512 fmax = _mm512_set1_ps(kFloatMax);
  const __m512d vr = _mm512_set1_pd(r), vs = _mm512_set1_pd(scale), top = _mm512_set1_pd(nb - 1),
                zero = _mm512_setzero_pd();
  const __m512i extra = _mm512_set1_epi32(nb);
  for (; i + 16 <= m; i += 16) {
    __m512 v = _mm512_loadu_ps(d + i);
    const __mmask16 finite = _mm512_cmp_ps_mask(_mm512_abs_ps(v), fmax, _CMP_LE_OQ);
    v = _mm512_maskz_mov_ps(finite, v);
    __m512d x0 = _mm512_mul_pd(_mm512_add_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(v)), vr), vs);
    __m512d x1 = _mm512_mul_pd(
        _mm512_add_pd(_mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))), vr), vs);
    x0 = _mm512_min_pd(_mm512_max_pd(x0, zero), top);
    x1 = _mm512_min_pd(_mm512_max_pd(x1, zero), top);
    __m512i b = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvttpd_epi32(x0)), _mm512_cvttpd_epi32(x1), 1);
    b = _mm512_mask_mov_epi32(extra, finite, b);
    _mm512_storeu_si512(idx + i, b);
  }
  BinIndicesSse2(d + i, m - i, r, scale, nb, idx + i);
}
#endif

using Isa = kernels::SimdIsa;
int isa_cap = 2;  // SetHistogramIsaForTesting

Isa HistIsa() {
#if defined(DOPT_HIST_WIDE)
  return std::min(kernels::CpuSimdIsa(), (Isa)isa_cap);
#else
  return Isa::kBase;
#endif
}

void Scan(const float* data, int64_t n, float* lo, float* hi, float* abs, int64_t* nans) {
#if defined(DOPT_HIST_WIDE)
  if (HistIsa() == Isa::kAvx512) return ScanAvx512(data, n, lo, hi, abs, nans);
  if (HistIsa() == Isa::kAvx2) return ScanAvx2(data, n, lo, hi, abs, nans);
#endif
  ScanSse2(data, n, lo, hi, abs, nans);
}

void BinIndices(const float* d, int m, double r, double scale, int nb, int32_t* idx) {
#if defined(DOPT_HIST_WIDE)
  if (HistIsa() == Isa::kAvx512) return BinIndicesAvx512(d, m, r, scale, nb, idx);
  if (HistIsa() == Isa::kAvx2) return BinIndicesAvx2(d, m, r, scale, nb, idx);
#endif
  BinIndicesSse2(d, m, r, scale, nb, idx);
}

}  // namespace

void SetHistogramIsaForTesting(int max_level) { isa_cap = std::max(0, std::min(2, max_level)); }

Histogram::Histogram(int num_bins) : counts_(num_bins + (num_bins & 1), 0) {}

void Histogram::GrowTo(double needed) {
  if (range_ <= 0) {
    // First data: the smallest power of two at or above `needed`, so later growth by
    // doubling keeps bin edges aligned.
    range_ = std::exp2(needed > 0 ? std::max(-60.0, std::ceil(std::log2(needed))) : -60.0);
    return;
  }
  const int n = (int)counts_.size();
  const int half = n / 2;
  while (range_ < needed) {
    // Doubling R: bin i of the new positive half holds old bins 2i and 2i+1 of the old
    // positive half; the negative half mirrors it.
    std::vector<uint64_t> grown(n, 0);
    for (int i = 0; i < half; ++i) {
      grown[half + i / 2] += counts_[half + i];
      grown[half - 1 - i / 2] += counts_[half - 1 - i];
    }
    counts_.swap(grown);
    range_ *= 2;
  }
}

void Histogram::Add(const float* data, int64_t n) {
  if (n <= 0) return;
  float lo, hi, finite_abs;
  int64_t nans;
  Scan(data, n, &lo, &hi, &finite_abs, &nans);
  const int64_t valid = n - nans;
  if (valid == 0) return;
  if (total_ == 0) {
    min_ = lo;
    max_ = hi;
  } else {
    min_ = std::min(min_, lo);
    max_ = std::max(max_, hi);
  }
  GrowTo(finite_abs);
  const int nb = (int)counts_.size();
  const double scale = nb / (2 * range_);
  // Bin indices a block at a time (non-finite values to the extra slot nb), then counted into
  // four interleaved tables, so runs of one value (the zeros after a ReLU) do not wait on the
  // previous increment of the same counter.
  constexpr int kBlock = 1024;
  int32_t idx[kBlock];
  std::vector<uint64_t> tables(4 * (size_t)(nb + 1), 0);
  uint64_t* t0 = tables.data();
  uint64_t* t1 = t0 + (nb + 1);
  uint64_t* t2 = t1 + (nb + 1);
  uint64_t* t3 = t2 + (nb + 1);
  for (int64_t s = 0; s < n; s += kBlock) {
    const int m = (int)std::min<int64_t>(kBlock, n - s);
    BinIndices(data + s, m, range_, scale, nb, idx);
    int i = 0;
    for (; i + 4 <= m; i += 4) {
      ++t0[idx[i]];
      ++t1[idx[i + 1]];
      ++t2[idx[i + 2]];
      ++t3[idx[i + 3]];
    }
    for (; i < m; ++i) ++t0[idx[i]];
  }
  for (int b = 0; b < nb; ++b) counts_[b] += t0[b] + t1[b] + t2[b] + t3[b];
  total_ += (uint64_t)valid;
}

void Histogram::Add(const float* data, int64_t n, ThreadPool* pool) {
  constexpr int64_t kGrain = 1 << 16;
  if (!pool || pool->num_threads() <= 1 || n < 2 * kGrain) {
    Add(data, n);
    return;
  }
  const int parts = pool->num_threads();
  const int64_t chunk = (n + parts - 1) / parts;
  std::vector<Histogram> partial(parts, Histogram(num_bins()));
  pool->ParallelFor(parts, 1, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      int64_t s = p * chunk, t = std::min(n, s + chunk);
      if (s < t) partial[p].Add(data + s, t - s);
    }
  });
  for (const Histogram& h : partial) Merge(h);
}

void Histogram::Merge(const Histogram& other) {
  if (other.total_ == 0) return;
  if (total_ == 0 && range_ <= 0) {
    *this = other;
    return;
  }
  Histogram o = other;
  double r = std::max(range_, o.range_);
  GrowTo(r);
  o.GrowTo(r);
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
  min_ = total_ ? std::min(min_, o.min_) : o.min_;
  max_ = total_ ? std::max(max_, o.max_) : o.max_;
  total_ += o.total_;
}

}  // namespace dopt
