#include "kernels/pool.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>

#include "kernels/clones.h"

namespace dopt {
namespace kernels {

namespace {
void ParallelOrSerial(ThreadPool* pool, int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (pool) pool->ParallelFor(n, grain, fn);
  else fn(0, n);
}

// Valid kernel taps [lo, hi) for output position o in one dim: 0 <= o*s - pb + t*d < in.
inline void Taps(int64_t o, int64_t s, int64_t pb, int64_t d, int64_t k, int64_t in, int64_t* lo, int64_t* hi) {
  const int64_t start = o * s - pb;
  int64_t l = start >= 0 ? 0 : (-start + d - 1) / d;
  int64_t h = in - start <= 0 ? 0 : (in - start + d - 1) / d;
  *lo = std::min(l, k);
  *hi = std::max(*lo, std::min(h, k));
}
}  // namespace

void PoolGeom::Set(const std::vector<int64_t>& in_, const std::vector<int64_t>& out_, const std::vector<int64_t>& k_,
                   const std::vector<int64_t>& s_, const std::vector<int64_t>& d_, const std::vector<int64_t>& pads) {
  const int n = (int)in_.size(), off = 3 - n;
  for (int i = 0; i < n; ++i) {
    in[off + i] = in_[i];
    out[off + i] = out_[i];
    k[off + i] = k_[i];
    s[off + i] = s_[i];
    d[off + i] = d_[i];
    pb[off + i] = pads[i];
    pe[off + i] = pads[n + i];
  }
}

// Tap ranges per output position of each dim, computed once per call.
struct TapTable {
  std::vector<int64_t> lo[3], hi[3];
  explicit TapTable(const PoolGeom& g) {
    for (int d = 0; d < 3; ++d) {
      lo[d].resize((size_t)g.out[d]);
      hi[d].resize((size_t)g.out[d]);
      for (int64_t o = 0; o < g.out[d]; ++o) Taps(o, g.s[d], g.pb[d], g.d[d], g.k[d], g.in[d], &lo[d][o], &hi[d][o]);
    }
  }
};

// Per tap column kw: the outputs ow with 0 <= ow*s - pb + kw*d < in, as [lo[kw], hi[kw]).
void TapColumns(const PoolGeom& g, std::vector<int64_t>* lo, std::vector<int64_t>* hi) {
  const int64_t sw = g.s[2];
  lo->resize((size_t)g.k[2]);
  hi->resize((size_t)g.k[2]);
  for (int64_t kw = 0; kw < g.k[2]; ++kw) {
    const int64_t off = kw * g.d[2] - g.pb[2];
    const int64_t l = off >= 0 ? 0 : (-off + sw - 1) / sw;
    const int64_t h = g.in[2] - off <= 0 ? 0 : (g.in[2] - off + sw - 1) / sw;
    (*lo)[kw] = std::min(l, g.out[2]);
    (*hi)[kw] = std::max((*lo)[kw], std::min(h, g.out[2]));
  }
}

// acc[i] = max(acc[i], r[i]) with NaN in r ignored (the comparison MaxPool uses).
template <typename T>
DOPT_KERNEL_CLONES void MaxInto(T* acc, const T* r, int64_t n) {
  for (int64_t i = 0; i < n; ++i) acc[i] = r[i] > acc[i] ? r[i] : acc[i];
}

template <typename T>
void MaxPool(const PoolGeom& g, const T* x, T* y, int64_t* indices, bool col_major, ThreadPool* pool) {
  const int64_t insz = g.InSize(), outsz = g.OutSize();
  const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(1, outsz));
  const TapTable tt(g);
  const int64_t sw = g.s[2];
  std::vector<int64_t> kw_lo, kw_hi;
  TapColumns(g, &kw_lo, &kw_hi);
  const T lowest = std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                                        : std::numeric_limits<T>::lowest();
  ParallelOrSerial(pool, g.planes, grain, [&](int64_t b, int64_t e) {
    std::vector<T> vrow((size_t)g.in[2]);
    for (int64_t p = b; p < e; ++p) {
      const T* xp = x + p * insz;
      T* yp = y + p * outsz;
      int64_t* ip = indices ? indices + p * outsz : nullptr;
      for (int64_t od = 0; od < g.out[0]; ++od) {
        const int64_t d0 = tt.lo[0][od], d1 = tt.hi[0][od];
        for (int64_t oh = 0; oh < g.out[1]; ++oh) {
          const int64_t h0 = tt.lo[1][oh], h1 = tt.hi[1][oh];
          T* yrow = yp + (od * g.out[1] + oh) * g.out[2];
          if (!ip) {
            // Separable: the max over the window's input rows first (contiguous, vectorised),
            // then, per tap column, over the outputs where that tap is inside. max is exact
            // (and NaN never wins either way), so the order does not change the result.
            for (int64_t iw = 0; iw < g.in[2]; ++iw) vrow[iw] = lowest;
            for (int64_t kd = d0; kd < d1; ++kd) {
              const int64_t id = od * g.s[0] - g.pb[0] + kd * g.d[0];
              for (int64_t kh = h0; kh < h1; ++kh) {
                const int64_t ih = oh * g.s[1] - g.pb[1] + kh * g.d[1];
                MaxInto(vrow.data(), xp + (id * g.in[1] + ih) * g.in[2], g.in[2]);
              }
            }
            for (int64_t ow = 0; ow < g.out[2]; ++ow) yrow[ow] = lowest;
            for (int64_t kw = 0; kw < g.k[2]; ++kw) {
              const int64_t lo = kw_lo[kw], hi = kw_hi[kw];
              const T* r = vrow.data() + kw * g.d[2] - g.pb[2];
              if (sw == 1) {
                MaxInto(yrow + lo, r + lo, hi - lo);
              } else if (sw == 2) {
                for (int64_t ow = lo; ow < hi; ++ow) yrow[ow] = r[2 * ow] > yrow[ow] ? r[2 * ow] : yrow[ow];
              } else {
                for (int64_t ow = lo; ow < hi; ++ow) yrow[ow] = r[ow * sw] > yrow[ow] ? r[ow * sw] : yrow[ow];
              }
            }
            continue;
          }
          for (int64_t ow = 0; ow < g.out[2]; ++ow) {
            const int64_t w0 = tt.lo[2][ow], w1 = tt.hi[2][ow];
            T best = lowest;
            int64_t bi = -1;
            for (int64_t kd = d0; kd < d1; ++kd) {
              const int64_t id = od * g.s[0] - g.pb[0] + kd * g.d[0];
              for (int64_t kh = h0; kh < h1; ++kh) {
                const int64_t ih = oh * g.s[1] - g.pb[1] + kh * g.d[1];
                const T* row = xp + (id * g.in[1] + ih) * g.in[2];
                const int64_t base = ow * g.s[2] - g.pb[2];
                for (int64_t kw = w0; kw < w1; ++kw) {
                  const int64_t iw = base + kw * g.d[2];
                  const T v = row[iw];
                  if (v > best || bi < 0) {
                    best = v;
                    bi = col_major ? id + g.in[0] * (ih + g.in[1] * iw) : (id * g.in[1] + ih) * g.in[2] + iw;
                  }
                }
              }
            }
            yrow[ow] = best;
            ip[(od * g.out[1] + oh) * g.out[2] + ow] = p * insz + std::max<int64_t>(bi, 0);
          }
        }
      }
    }
  });
}

template void MaxPool<float>(const PoolGeom&, const float*, float*, int64_t*, bool, ThreadPool*);
template void MaxPool<int8_t>(const PoolGeom&, const int8_t*, int8_t*, int64_t*, bool, ThreadPool*);
template void MaxPool<uint8_t>(const PoolGeom&, const uint8_t*, uint8_t*, int64_t*, bool, ThreadPool*);

// What AveragePool's planes share: tap tables and per-column counts.
struct AvgTables {
  const PoolGeom& g;
  TapTable tt;
  std::vector<int64_t> kw_lo, kw_hi;  // per tap column: outputs where it is inside
  std::vector<float> divisor;         // per output: its tap count (1 where it has none)
  bool count_include_pad;
  int64_t Padded(int64_t o, int dim) const {
    int64_t lo, hi;
    Taps(o, g.s[dim], 0, g.d[dim], g.k[dim], g.in[dim] + g.pb[dim] + g.pe[dim], &lo, &hi);
    return hi - lo;
  }
  AvgTables(const PoolGeom& geom, bool include_pad) : g(geom), tt(geom), count_include_pad(include_pad) {
    TapColumns(g, &kw_lo, &kw_hi);
    std::vector<int64_t> count_w((size_t)g.out[2]);
    for (int64_t ow = 0; ow < g.out[2]; ++ow)
      count_w[ow] = include_pad ? Padded(ow, 2) : tt.hi[2][ow] - tt.lo[2][ow];
    // Every output's tap count as a float (the divisor), once per call.
    divisor.resize((size_t)g.OutSize());
    for (int64_t od = 0; od < g.out[0]; ++od)
      for (int64_t oh = 0; oh < g.out[1]; ++oh) {
        const int64_t dh = include_pad ? Padded(od, 0) * Padded(oh, 1)
                                       : (tt.hi[0][od] - tt.lo[0][od]) * (tt.hi[1][oh] - tt.lo[1][oh]);
        float* row = divisor.data() + (od * g.out[1] + oh) * g.out[2];
        // No tap: the sum is +0, and +0 / 1 the 0 such an output gets.
        for (int64_t ow = 0; ow < g.out[2]; ++ow) row[ow] = dh * count_w[ow] > 0 ? (float)(dh * count_w[ow]) : 1.f;
      }
  }
};

// One plane. Each output sums its taps in (kd, kh, kw) order from 0: per input row of the
// window, tap column kw adds to the outputs where it is inside, a vector at a time (the loops
// inline in one clone: a call per row and tap cost more than the adds).
DOPT_KERNEL_CLONES void AveragePlane(const AvgTables& t, const float* xp, float* yp, float* acc) {
  const PoolGeom& g = t.g;
  const int64_t sw = g.s[2], ow_n = g.out[2];
  for (int64_t od = 0; od < g.out[0]; ++od) {
    const int64_t d0 = t.tt.lo[0][od], d1 = t.tt.hi[0][od];
    for (int64_t oh = 0; oh < g.out[1]; ++oh) {
      const int64_t h0 = t.tt.lo[1][oh], h1 = t.tt.hi[1][oh];
      for (int64_t ow = 0; ow < ow_n; ++ow) acc[ow] = 0.f;
      for (int64_t kd = d0; kd < d1; ++kd) {
        const int64_t id = od * g.s[0] - g.pb[0] + kd * g.d[0];
        for (int64_t kh = h0; kh < h1; ++kh) {
          const int64_t ih = oh * g.s[1] - g.pb[1] + kh * g.d[1];
          const float* row = xp + (id * g.in[1] + ih) * g.in[2];
          for (int64_t kw = 0; kw < g.k[2]; ++kw) {
            const int64_t lo = t.kw_lo[kw], hi = t.kw_hi[kw];
            const float* r = row + kw * g.d[2] - g.pb[2];
            if (sw == 1) {
              for (int64_t ow = lo; ow < hi; ++ow) acc[ow] += r[ow];
            } else {
              for (int64_t ow = lo; ow < hi; ++ow) acc[ow] += r[ow * sw];
            }
          }
        }
      }
      float* yrow = yp + (od * g.out[1] + oh) * ow_n;
      const float* div = t.divisor.data() + (od * g.out[1] + oh) * ow_n;
      for (int64_t ow = 0; ow < ow_n; ++ow) yrow[ow] = acc[ow] / div[ow];
    }
  }
}

// Narrow 2-D planes at stride 1 (PoolFormer's 3x3 token mixer at 14x14, Inception's pool
// branches): the plane is copied into a zero-padded buffer [Hp, Wp] and every tap adds along
// the whole flattened plane at once (output (oh, ow) at acc[oh * Wp + ow]; the columns past OW
// are never read). Adding a padding +0 leaves a sum's bits unchanged (a sum from +0 is never
// -0), so the outputs are AveragePlane's bits, taps in the same (kh, kw) order.
bool PaddedPlaneFits(const PoolGeom& g) {
  const int64_t hp = g.in[1] + g.pb[1] + g.pe[1], wp = g.in[2] + g.pb[2] + g.pe[2];
  return g.in[0] == 1 && g.out[0] == 1 && g.k[0] == 1 && g.pb[0] == 0 && g.pe[0] == 0 && g.s[1] == 1 && g.s[2] == 1 &&
         g.in[2] < 4096 &&
         g.out[1] == hp - (g.k[1] - 1) * g.d[1] && g.out[2] == wp - (g.k[2] - 1) * g.d[2] && g.out[1] > 0 &&
         g.out[2] > 0;
}

DOPT_KERNEL_CLONES_AVX512 void AveragePlanePadded(const AvgTables& t, const float* xp, float* yp, float* pad,
                                                  float* acc) {
  const PoolGeom& g = t.g;
  const int64_t H = g.in[1], W = g.in[2], wp = W + g.pb[2] + g.pe[2], hp = H + g.pb[1] + g.pe[1];
  const int64_t OH = g.out[1], OW = g.out[2], n = (OH - 1) * wp + OW;
  std::fill(pad, pad + hp * wp, 0.f);
  for (int64_t h = 0; h < H; ++h) std::copy(xp + h * W, xp + (h + 1) * W, pad + (h + g.pb[1]) * wp + g.pb[2]);
  for (int64_t o = 0; o < n; ++o) acc[o] = 0.f;
  for (int64_t kh = 0; kh < g.k[1]; ++kh)
    for (int64_t kw = 0; kw < g.k[2]; ++kw) {
      const float* r = pad + kh * g.d[1] * wp + kw * g.d[2];
      for (int64_t o = 0; o < n; ++o) acc[o] += r[o];
    }
  for (int64_t oh = 0; oh < OH; ++oh)
    for (int64_t ow = 0; ow < OW; ++ow) yp[oh * OW + ow] = acc[oh * wp + ow] / t.divisor[(size_t)(oh * OW + ow)];
}

void AveragePool(const PoolGeom& g, const float* x, float* y, bool count_include_pad, ThreadPool* pool) {
  const int64_t insz = g.InSize(), outsz = g.OutSize();
  const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(1, outsz));
  const AvgTables t(g, count_include_pad);
  const bool padded = PaddedPlaneFits(g);
  ParallelOrSerial(pool, g.planes, grain, [&](int64_t b, int64_t e) {
    if (padded) {
      const int64_t wp = g.in[2] + g.pb[2] + g.pe[2], hp = g.in[1] + g.pb[1] + g.pe[1];
      std::vector<float> pad((size_t)(hp * wp)), acc((size_t)(g.out[1] * wp));
      for (int64_t p = b; p < e; ++p) AveragePlanePadded(t, x + p * insz, y + p * outsz, pad.data(), acc.data());
      return;
    }
    std::vector<float> acc((size_t)g.out[2]);
    for (int64_t p = b; p < e; ++p) AveragePlane(t, x + p * insz, y + p * outsz, acc.data());
  });
}

namespace {

// One output row (n, od, oh) of a channels-last pooling, every pixel of it: per block of 16
// channels the taps are folded in registers (max, or a sum in the channels-first kernels' tap
// order: kd, kh, kw) and stored once.
struct RowNhwc {
  const float* x;  // the input plane of this row's n: [D, H, W, C]
  float* y;        // the output row: [out_w, C]
  int64_t C, out_w, in_h, in_w;
  int64_t d0, d1, id0, dd;  // taps kd in [d0, d1): input depth id0 + kd * dd
  int64_t h0, h1, ih0, dh;
  const int64_t *wlo, *whi;  // taps kw per output column
  int64_t sw, pw, dw;
};

// The 16 channels of a block as kN vectors of kBytes (one AVX-512 register, two AVX2 ones, four
// SSE2 ones), one function per ISA (kernels/clones.h, CpuSimdIsa).
template <bool kMax, int kBytes>
inline __attribute__((always_inline)) void PoolRowNhwcImpl(const RowNhwc& r) {
  typedef float V __attribute__((vector_size(kBytes)));
  constexpr int kLanes = kBytes / 4, kN = 16 / kLanes;
  const float init = kMax ? -std::numeric_limits<float>::infinity() : 0.f;
  for (int64_t ow = 0; ow < r.out_w; ++ow) {
    const int64_t w0 = r.wlo[ow], w1 = r.whi[ow], iw0 = ow * r.sw - r.pw;
    float* out = r.y + ow * r.C;
    // Blocks of 16 channels; a remainder of a C >= 16 as one more block that ends at C (it
    // overlaps the last one: its channels get the same values again, each channel's taps being
    // the same in the same order). Only C < 16 takes the scalar loop.
    const int64_t blocks_end = r.C >= 16 ? r.C : 0;
    int64_t c0 = 0;
    for (int64_t b = 0; b < blocks_end; b += 16) {
      c0 = std::min(b, r.C - 16);
      V acc[kN];
      for (int j = 0; j < kN; ++j) acc[j] = V{} + init;
      for (int64_t kd = r.d0; kd < r.d1; ++kd)
        for (int64_t kh = r.h0; kh < r.h1; ++kh) {
          const float* row = r.x + (((r.id0 + kd * r.dd) * r.in_h + r.ih0 + kh * r.dh) * r.in_w + iw0) * r.C + c0;
          for (int64_t kw = w0; kw < w1; ++kw) {
            const float* in = row + kw * r.dw * r.C;
            for (int j = 0; j < kN; ++j) {
              V v;
              std::memcpy(&v, in + j * kLanes, sizeof v);
              if constexpr (kMax) acc[j] = v > acc[j] ? v : acc[j];  // a NaN in v is ignored, as in MaxInto
              else acc[j] = acc[j] + v;
            }
          }
        }
      std::memcpy(out + c0, acc, sizeof acc);
    }
    for (int64_t c = blocks_end; c < r.C; ++c) {
      float acc = init;
      for (int64_t kd = r.d0; kd < r.d1; ++kd)
        for (int64_t kh = r.h0; kh < r.h1; ++kh) {
          const float* row = r.x + (((r.id0 + kd * r.dd) * r.in_h + r.ih0 + kh * r.dh) * r.in_w + iw0) * r.C + c;
          for (int64_t kw = w0; kw < w1; ++kw) {
            const float v = row[kw * r.dw * r.C];
            if constexpr (kMax) acc = v > acc ? v : acc;
            else acc = acc + v;
          }
        }
      out[c] = acc;
    }
  }
}

using RowFn = void (*)(const RowNhwc&);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
template <bool kMax>
__attribute__((target("avx512f"))) void RowAvx512(const RowNhwc& r) { PoolRowNhwcImpl<kMax, 64>(r); }
template <bool kMax>
__attribute__((target("avx2"))) void RowAvx2(const RowNhwc& r) { PoolRowNhwcImpl<kMax, 32>(r); }
#endif
template <bool kMax>
void RowSse2(const RowNhwc& r) { PoolRowNhwcImpl<kMax, 16>(r); }

// The widest version this CPU runs (the same values from each: max is exact, the sum adds the
// same taps in the same order per channel).
template <bool kMax>
RowFn PickRow() {
  switch (CpuSimdIsa()) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    case SimdIsa::kAvx512: return RowAvx512<kMax>;
    case SimdIsa::kAvx2: return RowAvx2<kMax>;
#endif
    default: return RowSse2<kMax>;
  }
}

// Runs `row` over each output row (n, od, oh) of a channels-last pooling, then `finish(pixel,
// od, oh, ow, taps)` per pixel. Rows are spread over the pool.
template <typename Finish>
void PoolRowsChannelsLast(const PoolGeom& g, int64_t C, const float* x, float* y, ThreadPool* pool,
                          void (*row)(const RowNhwc&), Finish finish) {
  const TapTable tt(g);
  const int64_t rows = g.planes * g.out[0] * g.out[1];
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, g.out[2] * C));
  ParallelOrSerial(pool, rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t oh = r % g.out[1], od = (r / g.out[1]) % g.out[0], p = r / (g.out[1] * g.out[0]);
      RowNhwc a;
      a.x = x + p * g.InSize() * C;
      a.y = y + r * g.out[2] * C;
      a.C = C, a.out_w = g.out[2], a.in_h = g.in[1], a.in_w = g.in[2];
      a.d0 = tt.lo[0][od], a.d1 = tt.hi[0][od], a.id0 = od * g.s[0] - g.pb[0], a.dd = g.d[0];
      a.h0 = tt.lo[1][oh], a.h1 = tt.hi[1][oh], a.ih0 = oh * g.s[1] - g.pb[1], a.dh = g.d[1];
      a.wlo = tt.lo[2].data(), a.whi = tt.hi[2].data(), a.sw = g.s[2], a.pw = g.pb[2], a.dw = g.d[2];
      row(a);
      for (int64_t ow = 0; ow < g.out[2]; ++ow)
        finish(a.y + ow * C, od, oh, ow, (a.d1 - a.d0) * (a.h1 - a.h0) * (tt.hi[2][ow] - tt.lo[2][ow]));
    }
  });
}

}  // namespace

void MaxPoolChannelsLast(const PoolGeom& g, int64_t C, const float* x, float* y, ThreadPool* pool) {
  static const RowFn row = PickRow<true>();
  PoolRowsChannelsLast(g, C, x, y, pool, row, [](float*, int64_t, int64_t, int64_t, int64_t) {});
}

void AveragePoolChannelsLast(const PoolGeom& g, int64_t C, const float* x, float* y, bool count_include_pad,
                             ThreadPool* pool) {
  auto padded = [&](int64_t o, int dim) {
    int64_t lo, hi;
    Taps(o, g.s[dim], 0, g.d[dim], g.k[dim], g.in[dim] + g.pb[dim] + g.pe[dim], &lo, &hi);
    return hi - lo;
  };
  static const RowFn row = PickRow<false>();
  PoolRowsChannelsLast(g, C, x, y, pool, row, [&](float* acc, int64_t od, int64_t oh, int64_t ow, int64_t taps) {
    const int64_t count = count_include_pad ? padded(od, 0) * padded(oh, 1) * padded(ow, 2) : taps;
    for (int64_t c = 0; c < C; ++c) acc[c] = count > 0 ? acc[c] / (float)count : 0.f;
  });
}

}  // namespace kernels
}  // namespace dopt
