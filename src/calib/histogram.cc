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

// The bins of d[0, m)'s non-zero finite values, in order, into idx (which has room for m + 16):
// half + floor(v * scale), clamped to [0, nb - 1]. Add passes nb + 1 for nb: |v| <= R, so the
// clamp never acts, and v = +R (x = half) gets the extra slot nb of its own (see at_range_);
// scale is nb / 2R, a power of two (nb is one: the default 2048), so v * scale is exact in float
// unless it underflows, and its floor then is 0 or -1 all the same; only a negative v whose
// product underflows to -0 needs the -1 put back. So a bin never depends on rounding, and
// doubling R maps every bin onto the merged pair exactly. Zeros (either sign, all in bin
// `half`) are only counted, into *zeros; NaN and the infinities are skipped. Returns how many
// indices it wrote. The vector versions do the same float operations lane by lane.
// The definition for one finite non-zero v (what every version computes), clamped to [0, top].
inline int BinOf(float v, float scale, int half, int top) {
  const float x = v * scale;
  const int b = half + (int)std::floor(x) - (x == 0.f && v < 0.f);
  return b < 0 ? 0 : (b > top ? top : b);
}

int BinNonZeroScalar(const float* d, int m, float scale, int half, int nb, int32_t* idx, int64_t* zeros) {
  int k = 0, i = 0;
  int64_t z = 0;
#if defined(__SSE2__)
  // SSE2 (every x86-64), four at a time and branch-free: floor(x) is the truncation minus one
  // where it lies above x (|x| <= half, so the conversion is exact), the clamp by compares, and
  // every lane's bin is written at idx[k] with k moving on only for the kept ones.
  const __m128 sign = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff)), fmax = _mm_set1_ps(kFloatMax),
               fzero = _mm_setzero_ps(), vs = _mm_set1_ps(scale);
  const __m128i vhalf = _mm_set1_epi32(half), top = _mm_set1_epi32(nb - 1);
  alignas(16) int32_t lane[4];
  // The set bits of a 4-bit mask (popcnt is not baseline x86-64: the builtin would be a call).
  static constexpr uint8_t kBits4[16] = {0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4};
  for (; i + 4 <= m; i += 4) {
    const __m128 v = _mm_loadu_ps(d + i);
    const __m128 is_zero = _mm_cmpeq_ps(v, fzero);
    const __m128 keep = _mm_andnot_ps(is_zero, _mm_cmple_ps(_mm_and_ps(v, sign), fmax));
    const __m128 x = _mm_mul_ps(_mm_and_ps(v, keep), vs);
    __m128i b = _mm_cvttps_epi32(x);
    b = _mm_add_epi32(b, _mm_castps_si128(_mm_cmpgt_ps(_mm_cvtepi32_ps(b), x)));  // true is -1
    b = _mm_add_epi32(b, _mm_castps_si128(_mm_and_ps(_mm_cmpeq_ps(x, fzero), _mm_cmplt_ps(v, fzero))));
    b = _mm_add_epi32(b, vhalf);
    b = _mm_andnot_si128(_mm_cmplt_epi32(b, _mm_setzero_si128()), b);
    const __m128i over = _mm_cmpgt_epi32(b, top);
    b = _mm_or_si128(_mm_and_si128(over, top), _mm_andnot_si128(over, b));
    _mm_store_si128(reinterpret_cast<__m128i*>(lane), b);
    const int kept = _mm_movemask_ps(keep);
    idx[k] = lane[0];
    k += kept & 1;
    idx[k] = lane[1];
    k += (kept >> 1) & 1;
    idx[k] = lane[2];
    k += (kept >> 2) & 1;
    idx[k] = lane[3];
    k += (kept >> 3) & 1;
    z += kBits4[_mm_movemask_ps(is_zero)];
  }
#endif
  for (; i < m; ++i) {
    const float v = d[i];
    if (v == 0.f) {
      ++z;
      continue;
    }
    if (!(std::fabs(v) <= kFloatMax)) continue;
    idx[k++] = BinOf(v, scale, half, nb - 1);
  }
  *zeros += z;
  return k;
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
__attribute__((target("avx2,popcnt"))) void ScanAvx2(const float* data, int64_t n, float* lo_out, float* hi_out,
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

// Lane selections for AVX2's missing compress: entry `mask` lists the set lanes of an 8-bit mask
// first (as a vpermd control).
struct CompressTable {
  alignas(32) int32_t lanes[256][8];
  CompressTable() {
    for (int mask = 0; mask < 256; ++mask) {
      int k = 0;
      for (int l = 0; l < 8; ++l)
        if ((mask >> l) & 1) lanes[mask][k++] = l;
      for (; k < 8; ++k) lanes[mask][k] = 0;
    }
  }
};
const CompressTable kCompress;

__attribute__((target("avx2,popcnt"))) int BinNonZeroAvx2(const float* d, int m, float scale, int half, int nb,
                                                   int32_t* idx, int64_t* zeros) {
  int i = 0, k = 0;
  int64_t z = 0;
  const __m256 sign = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)), fmax = _mm256_set1_ps(kFloatMax),
               fzero = _mm256_setzero_ps(), vs = _mm256_set1_ps(scale);
  const __m256i vhalf = _mm256_set1_epi32(half), vzero = _mm256_setzero_si256(), top = _mm256_set1_epi32(nb - 1);
  for (; i + 8 <= m; i += 8) {
    const __m256 v = _mm256_loadu_ps(d + i);
    const int is_zero = _mm256_movemask_ps(_mm256_cmp_ps(v, fzero, _CMP_EQ_OQ));
    const __m256 finite = _mm256_cmp_ps(_mm256_and_ps(v, sign), fmax, _CMP_LE_OQ);
    const int keep = _mm256_movemask_ps(finite) & ~is_zero;
    z += __builtin_popcount((unsigned)is_zero);
    if (!keep) continue;
    const __m256 x = _mm256_mul_ps(_mm256_and_ps(v, finite), vs);  // non-finite -> 0 (not kept)
    // -1 (all ones) where a negative v underflowed to -0.
    const __m256i under = _mm256_castps_si256(_mm256_and_ps(_mm256_cmp_ps(x, fzero, _CMP_EQ_OQ),
                                                            _mm256_cmp_ps(v, fzero, _CMP_LT_OQ)));
    __m256i b = _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_floor_ps(x)), under);
    b = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(b, vhalf), vzero), top);
    b = _mm256_permutevar8x32_epi32(b, _mm256_load_si256(reinterpret_cast<const __m256i*>(kCompress.lanes[keep])));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(idx + k), b);
    k += __builtin_popcount((unsigned)keep);
  }
  *zeros += z;
  return k + BinNonZeroScalar(d + i, m - i, scale, half, nb, idx + k, zeros);
}

__attribute__((target("avx512f,popcnt"))) void ScanAvx512(const float* data, int64_t n, float* lo_out, float* hi_out,
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

__attribute__((target("avx512f,popcnt"))) int BinNonZeroAvx512(const float* d, int m, float scale, int half, int nb,
                                                         int32_t* idx, int64_t* zeros) {
  int i = 0, k = 0;
  int64_t z = 0;
  const __m512 fmax = _mm512_set1_ps(kFloatMax), fzero = _mm512_setzero_ps(), vs = _mm512_set1_ps(scale);
  const __m512i vhalf = _mm512_set1_epi32(half), vzero = _mm512_setzero_si512(), top = _mm512_set1_epi32(nb - 1),
                one = _mm512_set1_epi32(1);
  for (; i + 16 <= m; i += 16) {
    const __m512 v = _mm512_loadu_ps(d + i);
    const __mmask16 is_zero = _mm512_cmp_ps_mask(v, fzero, _CMP_EQ_OQ);
    const __mmask16 keep = _mm512_cmp_ps_mask(_mm512_abs_ps(v), fmax, _CMP_LE_OQ) & (__mmask16)~is_zero;
    z += __builtin_popcount((unsigned)is_zero);
    if (!keep) continue;
    const __m512 x = _mm512_mul_ps(_mm512_maskz_mov_ps(keep, v), vs);
    const __mmask16 under = _mm512_cmp_ps_mask(x, fzero, _CMP_EQ_OQ) & _mm512_cmp_ps_mask(v, fzero, _CMP_LT_OQ);
    __m512i b = _mm512_cvtps_epi32(_mm512_roundscale_ps(x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC));
    b = _mm512_mask_sub_epi32(b, under, b, one);
    b = _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(b, vhalf), vzero), top);
    _mm512_storeu_si512(idx + k, _mm512_maskz_compress_epi32(keep, b));
    k += __builtin_popcount((unsigned)keep);
  }
  *zeros += z;
  return k + BinNonZeroScalar(d + i, m - i, scale, half, nb, idx + k, zeros);
}
// Scan and BinNonZero of one block in a single pass, for the common case of a block whose values
// are all finite and within [-R, R] (R = half / scale): the same bins (scale is a power of two,
// so x = v * scale is exact; for v < 0, x < 0 floors to at most -1, and -1 is also the bin of a
// product that underflowed to -0), the same minimum and maximum. Returns false as soon as a
// value is NaN, infinite or beyond R, having counted nothing: the block then takes the two
// passes (which grow R). The tail is a masked load; lanes past m count as neither zero nor kept.
__attribute__((target("avx512f,popcnt"))) bool ScanBinAvx512(const float* d, int m, float scale, float range,
                                                              int half, int32_t* idx, int* k_out, int64_t* zeros,
                                                              float* lo_out, float* hi_out) {
  const __m512 vr = _mm512_set1_ps(range), fzero = _mm512_setzero_ps(), vs = _mm512_set1_ps(scale);
  const __m512i vhalf = _mm512_set1_epi32(half), minus1 = _mm512_set1_epi32(-1);
  __m512 vlo = _mm512_set1_ps(std::numeric_limits<float>::infinity()), vhi = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  int k = 0;
  int64_t z = 0;
  for (int i = 0; i < m; i += 16) {
    const __mmask16 valid = m - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (m - i)) - 1);
    const __m512 v = _mm512_maskz_loadu_ps(valid, d + i);
    // abs(v) <= R fails for NaN, the infinities and values beyond R.
    if (_mm512_cmp_ps_mask(_mm512_abs_ps(v), vr, _CMP_LE_OQ) != 0xFFFF) return false;
    const __mmask16 is_zero = _mm512_mask_cmp_ps_mask(valid, v, fzero, _CMP_EQ_OQ);
    const __mmask16 keep = valid & (__mmask16)~is_zero;
    vlo = _mm512_mask_min_ps(vlo, valid, v, vlo);
    vhi = _mm512_mask_max_ps(vhi, valid, v, vhi);
    z += __builtin_popcount((unsigned)is_zero);
    const __m512 x = _mm512_mul_ps(v, vs);
    __m512i b = _mm512_cvtps_epi32(_mm512_roundscale_ps(x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC));
    b = _mm512_mask_min_epi32(b, _mm512_cmp_ps_mask(v, fzero, _CMP_LT_OQ), b, minus1);
    _mm512_storeu_si512(idx + k, _mm512_maskz_compress_epi32(keep, _mm512_add_epi32(b, vhalf)));
    k += __builtin_popcount((unsigned)keep);
  }
  *lo_out = _mm512_reduce_min_ps(vlo);
  *hi_out = _mm512_reduce_max_ps(vhi);
  *k_out = k;
  *zeros += z;
  return true;
}

__attribute__((target("avx2,popcnt"))) bool ScanBinAvx2(const float* d, int m, float scale, float range, int half,
                                                         int32_t* idx, int* k_out, int64_t* zeros, float* lo_out,
                                                         float* hi_out) {
  const __m256 sign = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)), vr = _mm256_set1_ps(range),
               fzero = _mm256_setzero_ps(), vs = _mm256_set1_ps(scale);
  const __m256 pinf = _mm256_set1_ps(std::numeric_limits<float>::infinity()), ninf = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  const __m256i vhalf = _mm256_set1_epi32(half), minus1 = _mm256_set1_epi32(-1),
                lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  __m256 vlo = pinf, vhi = ninf;
  int k = 0;
  int64_t z = 0;
  for (int i = 0; i < m; i += 8) {
    __m256 v, vmin, vmax;
    int valid = 0xFF;
    if (m - i >= 8) {
      v = vmin = vmax = _mm256_loadu_ps(d + i);
    } else {
      const __m256i in = _mm256_cmpgt_epi32(_mm256_set1_epi32(m - i), lane);
      valid = _mm256_movemask_ps(_mm256_castsi256_ps(in));
      v = _mm256_maskload_ps(d + i, in);
      vmin = _mm256_blendv_ps(pinf, v, _mm256_castsi256_ps(in));
      vmax = _mm256_blendv_ps(ninf, v, _mm256_castsi256_ps(in));
    }
    if (_mm256_movemask_ps(_mm256_cmp_ps(_mm256_and_ps(v, sign), vr, _CMP_LE_OQ)) != 0xFF) return false;
    const int is_zero = _mm256_movemask_ps(_mm256_cmp_ps(v, fzero, _CMP_EQ_OQ)) & valid;
    const int keep = valid & ~is_zero;
    vlo = _mm256_min_ps(vmin, vlo);
    vhi = _mm256_max_ps(vmax, vhi);
    z += __builtin_popcount((unsigned)is_zero);
    const __m256 x = _mm256_mul_ps(v, vs);
    __m256i b = _mm256_cvtps_epi32(_mm256_floor_ps(x));
    b = _mm256_blendv_epi8(b, _mm256_min_epi32(b, minus1), _mm256_castps_si256(_mm256_cmp_ps(v, fzero, _CMP_LT_OQ)));
    b = _mm256_permutevar8x32_epi32(_mm256_add_epi32(b, vhalf),
                                    _mm256_load_si256(reinterpret_cast<const __m256i*>(kCompress.lanes[keep])));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(idx + k), b);
    k += __builtin_popcount((unsigned)keep);
  }
  alignas(32) float l[8], h[8];
  _mm256_store_ps(l, vlo);
  _mm256_store_ps(h, vhi);
  float lo = l[0], hi = h[0];
  for (int j = 1; j < 8; ++j) {
    lo = l[j] < lo ? l[j] : lo;
    hi = h[j] > hi ? h[j] : hi;
  }
  *lo_out = lo;
  *hi_out = hi;
  *k_out = k;
  *zeros += z;
  return true;
}
#endif

using Isa = kernels::SimdIsa;
int isa_cap = 2;  // SetHistogramIsaForTesting

Isa HistIsa() {
#if defined(DOPT_HIST_WIDE)
  static const bool popcnt = __builtin_cpu_supports("popcnt");  // the wide versions use it
  return popcnt ? std::min(kernels::CpuSimdIsa(), (Isa)isa_cap) : Isa::kBase;
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

// ScanBinAvx512/ScanBinAvx2 where the CPU has one; false (the two passes) otherwise.
bool ScanBin(const float* d, int m, float scale, float range, int half, int32_t* idx, int* k, int64_t* zeros,
             float* lo, float* hi) {
#if defined(DOPT_HIST_WIDE)
  if (HistIsa() == Isa::kAvx512) return ScanBinAvx512(d, m, scale, range, half, idx, k, zeros, lo, hi);
  if (HistIsa() == Isa::kAvx2) return ScanBinAvx2(d, m, scale, range, half, idx, k, zeros, lo, hi);
#endif
  return false;
}

int BinNonZero(const float* d, int m, float scale, int half, int nb, int32_t* idx, int64_t* zeros) {
#if defined(DOPT_HIST_WIDE)
  if (HistIsa() == Isa::kAvx512) return BinNonZeroAvx512(d, m, scale, half, nb, idx, zeros);
  if (HistIsa() == Isa::kAvx2) return BinNonZeroAvx2(d, m, scale, half, nb, idx, zeros);
#endif
  return BinNonZeroScalar(d, m, scale, half, nb, idx, zeros);
}

// Per-thread counting tables for Add: four interleaved uint16 copies of the bins, so that runs
// of one bin do not wait on the previous increment of the same counter; 16 KiB for 2048 bins,
// with a block of data and its indices within a 32 KiB L1 (uint32 tables filled it on Zen 4:
// 0.6 ns per value there against 0.18 on Zen 5's 48 KiB). All zero between uses.
using Count16 = uint16_t;
std::vector<Count16>& CountTables(int nb) {
  thread_local std::vector<Count16> tables;
  if (tables.size() < 4 * (size_t)nb) tables.assign(4 * (size_t)nb, 0);
  return tables;
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
    // positive half; the negative half mirrors it. Values at exactly +R sat in the last bin
    // (clamped); at 2R they belong in bin half + half / 2, not with the last bin's others.
    std::vector<uint64_t> grown(n, 0);
    if (n > 0) counts_[n - 1] -= at_range_;
    for (int i = 0; i < half; ++i) {
      grown[half + i / 2] += counts_[half + i];
      grown[half - 1 - i / 2] += counts_[half - 1 - i];
    }
    if (n > 0) grown[half + half / 2] += at_range_;
    at_range_ = 0;
    counts_.swap(grown);
    range_ *= 2;
  }
}

void Histogram::Add(const float* data, int64_t n) {
  if (n <= 0) return;
  const int nb = (int)counts_.size(), half = nb / 2;
  if (nb == 0) {  // the extent only
    float lo, hi, finite_abs;
    int64_t nans;
    Scan(data, n, &lo, &hi, &finite_abs, &nans);
    if (n == nans) return;
    GrowTo(finite_abs);
    Extend(lo, hi, (uint64_t)(n - nans));
    return;
  }
  // A block at a time: scanned (min, max, largest finite |v|), R grown to cover it, its non-zero
  // values binned and counted, while the block is in L1. Growing R in the middle first moves the
  // counts so far into counts_ (GrowTo merges them), which gives the same bins as growing once
  // for the whole tensor (bins are exact, see BinNonZeroScalar).
  constexpr int kBlock = 1024;
  std::vector<Count16>& tables = CountTables(nb + 1);
  Count16* t0 = tables.data();
  Count16* t1 = t0 + (nb + 1);
  Count16* t2 = t1 + (nb + 1);
  Count16* t3 = t2 + (nb + 1);
  int lo_bin = nb + 1, hi_bin = -1;  // slots the tables may hold counts in
  // Values in the tables since the last flush: one counter could hold them all (a short block's
  // go to t0), so the tables are flushed before the next block could take one past 65535.
  int64_t pending = 0;
  constexpr int64_t kFlushAt = 65535 - kBlock;
  auto flush = [&] {
    for (int b = std::max(lo_bin, 0); b <= hi_bin; ++b) {
      const uint64_t c = (uint64_t)t0[b] + t1[b] + t2[b] + t3[b];
      t0[b] = t1[b] = t2[b] = t3[b] = 0;
      if (b < nb) {
        counts_[b] += c;
      } else {  // v = +R: in the last bin, and remembered for the next growth
        counts_[nb - 1] += c;
        at_range_ += c;
      }
    }
    lo_bin = nb + 1;
    hi_bin = -1;
    pending = 0;
  };
  auto bin_of = [&](float v, float scale) {  // v finite or +-inf: its slot, as BinNonZero computes it
    return std::fabs(v) <= kFloatMax ? BinOf(v, scale, half, nb) : (v < 0 ? 0 : nb);
  };
  alignas(64) int32_t idx[kBlock + 16];
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  int64_t nans = 0, zeros = 0;
  for (int64_t s = 0; s < n; s += kBlock) {
    const int m = (int)std::min<int64_t>(kBlock, n - s);
    const float* d = data + s;
    float blo, bhi;
    int k = 0;
    // R as a float bound: 2^128 (a finite value above 2^127 grew it there) is no float, FLT_MAX
    // then bounds the same finite values and still rejects the infinities.
    const float bound = (float)std::min(range_, (double)kFloatMax);
    if (range_ <= 0 || !ScanBin(d, m, (float)(nb / (2 * range_)), bound, half, idx, &k, &zeros, &blo, &bhi)) {
      float babs;
      int64_t bnans;
      Scan(d, m, &blo, &bhi, &babs, &bnans);
      nans += bnans;
      if (bnans == m) continue;
      if (range_ <= 0 || babs > range_) {
        flush();
        GrowTo(babs);
      }
      k = BinNonZero(d, m, (float)(nb / (2 * range_)), half, nb + 1, idx, &zeros);
    }
    lo = std::min(lo, blo);
    hi = std::max(hi, bhi);
    const float scale = (float)(nb / (2 * range_));
    if (k == 0) continue;
    lo_bin = std::min(lo_bin, bin_of(blo, scale));
    hi_bin = std::max(hi_bin, bin_of(bhi, scale));
    int i = 0;
    for (; i + 4 <= k; i += 4) {
      ++t0[idx[i]];
      ++t1[idx[i + 1]];
      ++t2[idx[i + 2]];
      ++t3[idx[i + 3]];
    }
    for (; i < k; ++i) ++t0[idx[i]];
    if ((pending += k) > kFlushAt) flush();
  }
  flush();
  const int64_t valid = n - nans;
  if (valid == 0) return;
  counts_[half] += (uint64_t)zeros;
  Extend(lo, hi, (uint64_t)valid);
}

void Histogram::Extend(float lo, float hi, uint64_t valid) {
  // A zero extreme as +0 (x + 0 is x for every other float): which of -0 and +0 the lanes and
  // parts kept first would otherwise depend on the ISA and the thread count.
  lo += 0.f;
  hi += 0.f;
  min_ = total_ ? std::min(min_, lo) : lo;
  max_ = total_ ? std::max(max_, hi) : hi;
  total_ += valid;
}

void Histogram::Add(const float* data, int64_t n, ThreadPool* pool) {
  constexpr int64_t kGrain = 1 << 12;
  if (!pool || pool->num_threads() <= 1 || n < 2 * kGrain) {
    Add(data, n);
    return;
  }
  const int parts = pool->num_threads();
  const int64_t chunk = (n + parts - 1) / parts;
  // Part 0 goes straight into this histogram; the others into empty ones at this histogram's R
  // (R only ever doubles, so their bins line up with these), kept by the calling thread between
  // calls: merging them is a plain sum of counts unless a part had to grow further.
  thread_local std::vector<Histogram> scratch;
  std::vector<Histogram>& partial = scratch;  // the caller's (the workers have their own scratch)
  partial.resize(parts - 1);
  for (Histogram& h : partial) {
    h.counts_.assign(counts_.size(), 0);  // no reallocation at the same size
    h.range_ = range_;
    h.total_ = h.at_range_ = 0;
  }
  pool->ParallelFor(parts, 1, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      int64_t s = p * chunk, t = std::min(n, s + chunk);
      if (s < t) (p == 0 ? *this : partial[p - 1]).Add(data + s, t - s);
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
  GrowTo(std::max(range_, other.range_));
  if (other.range_ < range_) {  // the other's bins merged up to this range, on a copy
    Histogram grown = other;
    grown.GrowTo(range_);
    Merge(grown);
    return;
  }
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  at_range_ += other.at_range_;
  Extend(other.min_, other.max_, other.total_);
}

}  // namespace dopt
