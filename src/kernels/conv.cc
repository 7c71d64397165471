#include "kernels/conv.h"

#include <algorithm>
#include <cstring>

#include "common/kernel_options.h"
#include "kernels/clones.h"
#include "kernels/gemm.h"
#include "kernels/transpose.h"


namespace dopt {
namespace kernels {

namespace {

void ParallelOrSerial(ThreadPool* pool, int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (pool) pool->ParallelFor(n, grain, fn);
  else fn(0, n);
}

// Floor division for possibly negative numerators, positive d.
inline int64_t FloorDiv(int64_t a, int64_t d) { return a >= 0 ? a / d : -((-a + d - 1) / d); }

// Range of output positions o in [0, out) with 0 <= o*s + off < in.
inline void ValidRange(int64_t off, int64_t s, int64_t in, int64_t out, int64_t* lo, int64_t* hi) {
  int64_t l = off >= 0 ? 0 : FloorDiv(-off + s - 1, s);
  int64_t h = FloorDiv(in - 1 - off, s) + 1;
  *lo = std::max<int64_t>(0, std::min(l, out));
  *hi = std::max(*lo, std::min(h, out));
}

bool IsPointwise(const ConvGeom& g) {
  for (int i = 0; i < 3; ++i)
    if (g.k[i] != 1 || g.s[i] != 1 || g.pb[i] != 0 || g.in[i] != g.out[i]) return false;
  return true;
}

// One output row `oh` of image n of a dense 2-D convolution with few output channels, for all
// of them (ys[m] = that row of output channel m). Per element the sum runs over (input channel,
// kh, kw) in order from 0 (the caller adds the bias last), whichever loop computes it. One input
// channel at a time (its few rows stay in L1; planes a power of two apart would evict each other
// if all channels' rows were walked together): where all of a channel's taps of a stride-1 row
// lie inside the input, blocks of up to 4 vectors of outputs take the channel's taps in
// registers (the last vector overlapping its neighbour, whose lanes it drops); the edges and
// strided rows add one tap at a time. One function per ISA
// (kBytes-wide GCC vectors; the AVX2 and AVX-512 ones with FMA), so all loops contract alike.
struct FewTap {
  const float* row;  // input row; its element o * SW + off feeds output o
  int64_t off, wi;   // column offset, weight index (c * KH * KW + kh * KW + kw)
};

// The most taps (kh, kw pairs) of one input channel the direct kernel takes.
constexpr int kMaxFewTaps = 64;

// Outputs [lo, hi) (hi - lo >= kLanes) of one output row of one output channel:
// y[o] += wts[t] * src[t][o - lo] over the taps t in order. Blocks of 4 vectors, then single vectors,
// then a last vector ending at hi whose lanes before the unfinished ones are dropped. kTaps != 0:
// that many taps, unrolled, their weights broadcast once into registers.
template <typename V, int kLanes, int kTaps>
inline __attribute__((always_inline)) void FewRowVectors(const float* const* src, const float* wts, int nt, float* y,
                                                         int64_t lo, int64_t hi) {
  constexpr int kVecs = 4, kChunk = kLanes * kVecs, kW = kTaps ? kTaps : 1;
  const int n = kTaps ? kTaps : nt;
  V wv[kW];
  if constexpr (kTaps != 0)
    for (int t = 0; t < kTaps; ++t) wv[t] = V{} + wts[t];
  int64_t o = lo;
  for (; o + kChunk <= hi; o += kChunk) {
    V acc[kVecs];
    std::memcpy(acc, y + o, sizeof acc);
    for (int t = 0; t < n; ++t) {
      V wt;
      if constexpr (kTaps != 0) wt = wv[t];
      else wt = V{} + wts[t];
      for (int v = 0; v < kVecs; ++v) {
        V xv;
        std::memcpy(&xv, src[t] + (o - lo) + v * kLanes, sizeof xv);
        acc[v] += wt * xv;
      }
    }
    std::memcpy(y + o, acc, sizeof acc);
  }
  // Single vectors, then one ending at hi (its lanes before o are done: dropped).
  while (o < hi) {
    const int64_t ov = std::min(o, hi - kLanes);
    V acc;
    std::memcpy(&acc, y + ov, sizeof acc);
    for (int t = 0; t < n; ++t) {
      V wt;
      if constexpr (kTaps != 0) wt = wv[t];
      else wt = V{} + wts[t];
      V xv;
      std::memcpy(&xv, src[t] + (ov - lo), sizeof xv);
      acc += wt * xv;
    }
    float lanes[kLanes];
    std::memcpy(lanes, &acc, sizeof acc);
    std::memcpy(y + o, lanes + (o - ov), (size_t)(ov + kLanes - o) * sizeof(float));
    o = ov + kLanes;
  }
}

template <int kBytes>
inline __attribute__((always_inline)) void FewOutputsRowsImpl(const ConvGeom& g, const float* x, const float* w,
                                                              int64_t oh0, int64_t oh1, float* yimg,
                                                              std::vector<FewTap>& taps) {
  typedef float V __attribute__((vector_size(kBytes)));
  constexpr int kLanes = kBytes / 4;
  const int64_t H = g.in[1], W = g.in[2], OW = g.out[2], KH = g.k[1], KW = g.k[2];
  const int64_t SW = g.s[2], DW = g.d[2], ks = KH * KW, M = g.M, K = g.C * ks;
  int64_t lo_all = 0, hi_all = OW;  // the outputs all of a row's taps lie inside the input for
  for (int64_t kw = 0; kw < KW; ++kw) {
    int64_t lo, hi;
    ValidRange(kw * DW - g.pb[2], SW, W, OW, &lo, &hi);
    lo_all = std::max(lo_all, lo);
    hi_all = std::min(hi_all, hi);
  }
  const bool vec = SW == 1 && hi_all - lo_all >= kLanes;
  float* ys[kFewOutputs] = {};  // the current output row of each output channel
  // Outputs [a, b), one tap at a time.
  auto by_tap = [&](int64_t a, int64_t b) {
    for (const FewTap& t : taps) {
      int64_t lo, hi;
      ValidRange(t.off, SW, W, OW, &lo, &hi);
      lo = std::max(lo, a);
      hi = std::min(hi, b);
      for (int64_t m = 0; m < M; ++m) {
        const float wv = w[m * K + t.wi];
        float* y = ys[m];
        for (int64_t o = lo; o < hi; ++o) y[o] += wv * t.row[o * SW + t.off];
      }
    }
  };
  const int64_t OH = g.out[1];
  for (int64_t m = 0; m < M; ++m)
    for (int64_t oh = oh0; oh < oh1; ++oh) std::fill(yimg + (m * OH + oh) * OW, yimg + (m * OH + oh + 1) * OW, 0.f);
  // The input rows the block reads, per channel: one contiguous span, prefetched a channel ahead
  // (the planes lie far apart; the hardware prefetcher does not follow the jumps).
  const int64_t ih_lo = std::clamp<int64_t>(oh0 * g.s[1] - g.pb[1], 0, H);
  const int64_t ih_hi = std::clamp<int64_t>((oh1 - 1) * g.s[1] - g.pb[1] + (KH - 1) * g.d[1] + 1, ih_lo, H);
  for (int64_t c = 0; c < g.C; ++c)
  for (int64_t oh = oh0; oh < oh1; ++oh) {
    if (oh == oh0 && c + 1 < g.C) {
      const char* p = reinterpret_cast<const char*>(x + ((c + 1) * H + ih_lo) * W);
      const int64_t bytes = (ih_hi - ih_lo) * W * (int64_t)sizeof(float);
      for (int64_t i = 0; i < bytes; i += 64) __builtin_prefetch(p + i);
    }
    for (int64_t m = 0; m < M; ++m) ys[m] = yimg + (m * OH + oh) * OW;
    taps.clear();
    for (int64_t kh = 0; kh < KH; ++kh) {
      const int64_t ih = oh * g.s[1] - g.pb[1] + kh * g.d[1];
      if (ih < 0 || ih >= H) continue;
      for (int64_t kw = 0; kw < KW; ++kw) taps.push_back({x + (c * H + ih) * W, kw * DW - g.pb[2], c * ks + kh * KW + kw});
    }
    if (taps.empty()) continue;
    if (!vec) {
      by_tap(0, OW);
      continue;
    }
    const int nt = (int)taps.size();
    const float* src[kMaxFewTaps];
    float wts[kMaxFewTaps];
    // Each tap's input at output lo_all (inside the row: lo_all + off >= 0 for every tap).
    for (int t = 0; t < nt; ++t) src[t] = taps[(size_t)t].row + taps[(size_t)t].off + lo_all;
    for (int64_t m = 0; m < M; ++m) {
      for (int t = 0; t < nt; ++t) wts[t] = w[m * K + taps[(size_t)t].wi];
      if (nt == 9) FewRowVectors<V, kLanes, 9>(src, wts, nt, ys[m], lo_all, hi_all);
      else FewRowVectors<V, kLanes, 0>(src, wts, nt, ys[m], lo_all, hi_all);
    }
    by_tap(0, lo_all);
    by_tap(hi_all, OW);
  }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("avx512f,fma"))) void FewOutputsRowsAvx512(const ConvGeom& g, const float* x, const float* w,
                                                                int64_t oh0, int64_t oh1, float* y,
                                                                std::vector<FewTap>& t) {
  FewOutputsRowsImpl<64>(g, x, w, oh0, oh1, y, t);
}
__attribute__((target("avx2,fma"))) void FewOutputsRowsAvx2(const ConvGeom& g, const float* x, const float* w,
                                                            int64_t oh0, int64_t oh1, float* y, std::vector<FewTap>& t) {
  FewOutputsRowsImpl<32>(g, x, w, oh0, oh1, y, t);
}
#endif
void FewOutputsRowsSse2(const ConvGeom& g, const float* x, const float* w, int64_t oh0, int64_t oh1, float* y,
                       std::vector<FewTap>& t) {
  FewOutputsRowsImpl<16>(g, x, w, oh0, oh1, y, t);
}

using FewOutputsRowsFn = void (*)(const ConvGeom&, const float*, const float*, int64_t, int64_t, float*,
                                 std::vector<FewTap>&);
FewOutputsRowsFn PickFewOutputsRows() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  const bool fma = __builtin_cpu_supports("fma");
  if (CpuSimdIsa() == SimdIsa::kAvx512 && fma) return FewOutputsRowsAvx512;
  if (CpuSimdIsa() >= SimdIsa::kAvx2 && fma) return FewOutputsRowsAvx2;
#endif
  return FewOutputsRowsSse2;
}

// Depthwise conv with one input and one output channel per group, 2-D (depth 1).
DOPT_KERNEL_CLONES void DepthwiseChannel(const ConvGeom& g, const float* x, const float* w, float bias, float* y, std::vector<float>& pad) {
  const int64_t H = g.in[1], W = g.in[2], OH = g.out[1], OW = g.out[2];
  const int64_t KH = g.k[1], KW = g.k[2], SH = g.s[1], SW = g.s[2], DH = g.d[1], DW = g.d[2];
  const int64_t PT = g.pb[1], PL = g.pb[2];
  const int64_t HP = (OH - 1) * SH + (KH - 1) * DH + 1, WP = (OW - 1) * SW + (KW - 1) * DW + 1;
  pad.assign((size_t)(HP * WP), 0.f);
  for (int64_t h = 0; h < H; ++h) {
    int64_t ph = h + PT;
    if (ph < 0 || ph >= HP) continue;
    int64_t w0 = std::max<int64_t>(0, -PL), w1 = std::min<int64_t>(W, WP - PL);
    if (w1 > w0) std::memcpy(&pad[ph * WP + w0 + PL], x + h * W + w0, (size_t)(w1 - w0) * sizeof(float));
  }
  for (int64_t oh = 0; oh < OH; ++oh) {
    float* yr = y + oh * OW;
    for (int64_t ow = 0; ow < OW; ++ow) yr[ow] = bias;
    for (int64_t kh = 0; kh < KH; ++kh) {
      const float* row = pad.data() + (oh * SH + kh * DH) * WP;
      for (int64_t kw = 0; kw < KW; ++kw) {
        const float wv = w[kh * KW + kw];
        const float* r = row + kw * DW;
        if (SW == 1) {
          for (int64_t ow = 0; ow < OW; ++ow) yr[ow] += wv * r[ow];
        } else if (SW == 2) {
          for (int64_t ow = 0; ow < OW; ++ow) yr[ow] += wv * r[2 * ow];
        } else {
          for (int64_t ow = 0; ow < OW; ++ow) yr[ow] += wv * r[ow * SW];
        }
      }
    }
  }
}

}  // namespace

bool LiveTaps(const ConvGeom& g, int64_t lo[3], int64_t hi[3]) {
  bool trims = false;
  for (int i = 0; i < 3; ++i) {
    lo[i] = 0;
    hi[i] = g.k[i] - 1;
    if (g.k[i] == 1) continue;
    auto live = [&](int64_t k) {
      const int64_t c = k * g.d[i] - g.pb[i];  // input position of output 0
      const int64_t o = c >= 0 ? 0 : (-c + g.s[i] - 1) / g.s[i];
      return o < g.out[i] && o * g.s[i] + c < g.in[i];
    };
    while (lo[i] <= hi[i] && !live(lo[i])) ++lo[i];
    while (hi[i] >= lo[i] && !live(hi[i])) --hi[i];
    if (lo[i] > hi[i]) return false;  // no tap reads the input: left to the kernels
    const int64_t pb = g.pb[i] - lo[i] * g.d[i];
    const int64_t pe = (g.out[i] - 1) * g.s[i] + (hi[i] - lo[i]) * g.d[i] + 1 - g.in[i] - pb;
    if (pb < 0 || pe <= -g.s[i]) return false;
    trims = trims || lo[i] > 0 || hi[i] < g.k[i] - 1;
  }
  return trims;
}

void CropTaps(const ConvGeom& g, const int64_t lo[3], const int64_t hi[3], const float* w, std::vector<float>* live) {
  const int64_t rows = g.M * (g.C / g.G);
  live->resize((size_t)(rows * (hi[0] - lo[0] + 1) * (hi[1] - lo[1] + 1) * (hi[2] - lo[2] + 1)));
  float* out = live->data();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t a = lo[0]; a <= hi[0]; ++a)
      for (int64_t b = lo[1]; b <= hi[1]; ++b)
        for (int64_t c = lo[2]; c <= hi[2]; ++c) *out++ = w[((r * g.k[0] + a) * g.k[1] + b) * g.k[2] + c];
}

void TrimTaps(ConvGeom& g, const int64_t lo[3], const int64_t hi[3]) {
  for (int i = 0; i < 3; ++i) {
    g.pb[i] -= lo[i] * g.d[i];
    g.k[i] = hi[i] - lo[i] + 1;
    if (g.k[i] == 1) g.d[i] = 1;
  }
}


void ConvGeom::SetSpatial(const std::vector<int64_t>& in_, const std::vector<int64_t>& out_,
                          const std::vector<int64_t>& k_, const std::vector<int64_t>& s_,
                          const std::vector<int64_t>& d_, const std::vector<int64_t>& pb_) {
  const int n = (int)in_.size();
  const int off = 3 - n;
  for (int i = 0; i < n; ++i) {
    in[off + i] = in_[i];
    out[off + i] = out_[i];
    k[off + i] = k_[i];
    s[off + i] = s_[i];
    d[off + i] = d_[i];
    pb[off + i] = pb_[i];
  }
}

void Im2Col(const ConvGeom& g, int64_t cg, const float* x, int64_t j0, int64_t j1, float* col) {
  const int64_t ID = g.in[0], IH = g.in[1], IW = g.in[2];
  const int64_t OH = g.out[1], OW = g.out[2];
  const int64_t ncols = j1 - j0;
  const int64_t insz = g.InSize();
  float* dst = col;
  for (int64_t c = 0; c < cg; ++c) {
    const float* xc = x + c * insz;
    for (int64_t kd = 0; kd < g.k[0]; ++kd)
      for (int64_t kh = 0; kh < g.k[1]; ++kh)
        for (int64_t kw = 0; kw < g.k[2]; ++kw) {
          const int64_t offd = kd * g.d[0] - g.pb[0], offh = kh * g.d[1] - g.pb[1], offw = kw * g.d[2] - g.pb[2];
          int64_t wlo, whi;
          ValidRange(offw, g.s[2], IW, OW, &wlo, &whi);
          int64_t j = j0;
          float* o = dst;
          while (j < j1) {
            const int64_t od = j / (OH * OW), oh = (j / OW) % OH, ow0 = j % OW;
            const int64_t run = std::min(OW - ow0, j1 - j);
            const int64_t id = od * g.s[0] + offd, ih = oh * g.s[1] + offh;
            if (id < 0 || id >= ID || ih < 0 || ih >= IH) {
              std::memset(o, 0, (size_t)run * sizeof(float));
            } else {
              const float* xr = xc + (id * IH + ih) * IW + offw;
              const int64_t a = std::max(ow0, std::min(wlo, ow0 + run)), b = std::max(a, std::min(whi, ow0 + run));
              int64_t t = 0;
              for (int64_t ow = ow0; ow < a; ++ow) o[t++] = 0.f;
              if (g.s[2] == 1) {
                std::memcpy(o + t, xr + a, (size_t)(b - a) * sizeof(float));
                t += b - a;
              } else {
                const int64_t sw = g.s[2];
                for (int64_t ow = a; ow < b; ++ow) o[t++] = xr[ow * sw];
              }
              for (int64_t ow = b; ow < ow0 + run; ++ow) o[t++] = 0.f;
            }
            o += run;
            j += run;
          }
          dst += ncols;
        }
  }
}

namespace {

template <typename F>
DOPT_KERNEL_CLONES void ApplyEach(float* y, int64_t n, float b, F f) {
  for (int64_t i = 0; i < n; ++i) y[i] = f(y[i] + b);
}

}  // namespace

namespace {
DOPT_KERNEL_CLONES void AddRow(float* d, const float* s, int64_t n, bool relu) {
  if (relu) {
    for (int64_t i = 0; i < n; ++i) {
      const float v = d[i] + s[i];
      d[i] = v > 0.f ? v : 0.f;
    }
  } else {
    for (int64_t i = 0; i < n; ++i) d[i] = d[i] + s[i];
  }
}
}  // namespace

void AddResidual(float* d, int64_t dld, const float* s, int64_t sld, int64_t rows, int64_t cols, Activation::Kind post) {
  for (int64_t r = 0; r < rows; ++r) AddRow(d + r * dld, s + r * sld, cols, post == Activation::kRelu);
}

void BiasActivate(float* y, int64_t n, bool add_bias, float b, const Activation& act) {
  if (!add_bias) b = 0.f;  // x + 0.f == x for every float but -0.f, which no activation distinguishes
  switch (act.kind) {
    case Activation::kNone:
      if (add_bias) ApplyEach(y, n, b, [](float v) { return v; });
      break;
    case Activation::kRelu:
      ApplyEach(y, n, b, [](float v) { return v > 0.f ? v : 0.f; });
      break;
    case Activation::kLeakyRelu: {
      const float a = act.alpha;
      ApplyEach(y, n, b, [a](float v) { return v < 0.f ? a * v : v; });
      break;
    }
    case Activation::kClip: {
      const float lo = act.lo, hi = act.hi;
      ApplyEach(y, n, b, [lo, hi](float v) {
        v = v < lo ? lo : v;
        return v > hi ? hi : v;
      });
      break;
    }
  }
}

// Pointwise convs (1x1, stride 1, unpadded; any groups) as dense products Y[rows, HW] =
// W[rows, C/G] x X[C/G, HW] per block of a group's output channels (SgemmDenseOneDnn: oneDNN's AVX-512 brgemm
// reads the NCHW input as it is, 100-115 GMAC/s on a Zen 5 core, where OpenBLAS may run AVX2
// kernels: the packaged 0.3.21 does, with OPENBLAS_CORETYPE=Haswell, on AMD's AVX-512 CPUs);
// then bias, activation and epilogue per row. The blocks depend on the shape alone (about 32
// rows, fewer and larger when the input exceeds 4 MiB: each block reads all of it). False,
// writing nothing, where oneDNN offers no brgemm kernel (AVX2 CPUs).
bool PointwiseDense(const ConvGeom& g, const float* x, const float* w, const float* bias, float* y, ThreadPool* pool,
                    const Activation& act) {
  const int64_t HW = g.InSize(), Cg = g.C / g.G, Mg = g.M / g.G;
  const int64_t per = Cg * HW > (int64_t{1} << 20) ? 128 : 32;
  const int64_t nb = std::max<int64_t>(1, std::min<int64_t>(8, Mg / per));
  const int64_t rb = std::min(Mg, ((Mg + nb - 1) / nb + 15) / 16 * 16);
  const int64_t nblk = (Mg + rb - 1) / rb;
  // Small blocks (many tiny groups) would pay the primitive lookup per block: OpenBLAS's path.
  if (rb * Cg * HW < (int64_t{1} << 16)) return false;
  if (!SgemmDenseOneDnnHandles(rb, HW, Cg) || !SgemmDenseOneDnnHandles(Mg - (nblk - 1) * rb, HW, Cg)) return false;
  ParallelOrSerial(pool, g.N * g.G * nblk, 1, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t ng = t / nblk, n = ng / g.G, gi = ng % g.G;
      const int64_t m0 = gi * Mg + t % nblk * rb, rows = std::min(rb, (gi + 1) * Mg - m0);
      float* yb = y + (n * g.M + m0) * HW;
      // Declined after the checks above only if the reference kernels were forced meanwhile.
      if (!SgemmDenseOneDnn(rows, HW, Cg, w + m0 * Cg, x + (n * g.C + gi * Cg) * HW, yb))
        SgemmSerial(false, false, rows, HW, Cg, 1.f, w + m0 * Cg, Cg, x + (n * g.C + gi * Cg) * HW, HW, 0.f, yb, HW);
      if (bias || act.kind != Activation::kNone)
        for (int64_t m = 0; m < rows; ++m) BiasActivate(yb + m * HW, HW, bias != nullptr, bias ? bias[m0 + m] : 0.f, act);
      if (act.HasEpilogue()) ApplyEpilogueRows(*act.epilogue, yb, rows, HW, HW, m0);
    }
  });
  return true;
}

bool ConvFewOutputsPreferred(const ConvGeom& g) {
  // Measured against oneDNN (AMD Zen 5, AVX-512): 2-3x faster at 1 and 2 output channels on long
  // rows (64 x 256^2: 7.3 -> 2.6 ms at 1 thread, 6.1 -> 1.3 ms at 2), slower on short rows
  // (256 x 40^2), at stride 2 and at 4 outputs.
  return !ReferenceKernelsForced() && g.G == 1 && g.M <= kFewOutputs && g.in[0] == 1 && g.out[0] == 1 && g.k[0] == 1 &&
         g.pb[0] == 0 && !IsPointwise(g) &&
         g.s[2] == 1 && g.out[2] >= 64 && g.C * g.KSize() >= 16 && g.KSize() <= kMaxFewTaps;
}

void ConvForward(const ConvGeom& g, const float* x, const float* w, const float* bias, float* y, ThreadPool* pool,
                 const Activation& act) {
  const int64_t Cg = g.C / g.G, Mg = g.M / g.G;
  const int64_t insz = g.InSize(), outsz = g.OutSize(), ks = g.KSize();
  const int64_t K = Cg * ks;

  if (Cg == 1 && Mg == 1 && g.in[0] == 1 && g.out[0] == 1 && g.k[0] == 1 && g.pb[0] == 0) {
    // Depthwise: one channel per group, direct kernel, parallel over (n, c).
    ParallelOrSerial(pool, g.N * g.C, 1, [&](int64_t b, int64_t e) {
      std::vector<float> pad;
      for (int64_t i = b; i < e; ++i) {
        const int64_t c = i % g.C;
        DepthwiseChannel(g, x + i * insz, w + c * ks, bias ? bias[c] : 0.f, y + i * outsz, pad);
        if (act.kind != Activation::kNone) BiasActivate(y + i * outsz, outsz, false, 0.f, act);
        if (act.HasEpilogue()) ApplyEpilogue(*act.epilogue, y + i * outsz, outsz, c);
      }
    });
    return;
  }

  if (ConvFewOutputsPreferred(g)) {
    // Blocks of kRows output rows (a channel's input rows for them are read once, from L1), in
    // parallel; a row's values do not depend on the block or thread that computes it.
    constexpr int64_t kRows = 8;
    const int64_t OH = g.out[1], OW = g.out[2], nrb = (OH + kRows - 1) / kRows;
    ParallelOrSerial(pool, g.N * nrb, 1, [&](int64_t b, int64_t e) {
      static const FewOutputsRowsFn rows = PickFewOutputsRows();
      std::vector<FewTap> taps;
      for (int64_t r = b; r < e; ++r) {
        const int64_t n = r / nrb, oh0 = r % nrb * kRows, oh1 = std::min(OH, oh0 + kRows);
        float* yimg = y + n * g.M * outsz;
        rows(g, x + n * g.C * insz, w, oh0, oh1, yimg, taps);
        for (int64_t m = 0; m < g.M; ++m) {
          float* ym = yimg + (m * OH + oh0) * OW;
          BiasActivate(ym, (oh1 - oh0) * OW, bias != nullptr, bias ? bias[m] : 0.f, act);
          if (act.HasEpilogue()) ApplyEpilogue(*act.epilogue, ym, (oh1 - oh0) * OW, m);
        }
      }
    });
    return;
  }
  const bool pointwise = IsPointwise(g);
  if (pointwise && PointwiseDense(g, x, w, bias, y, pool, act)) return;
  // Work is split into (row block, column block) tiles of C = W * col. The split depends only
  // on the shape, never on the thread count, so every element comes from the same sgemm call
  // and results are reproducible. Column blocks (>= 4 per image where possible) keep an im2col block (<= 512 KiB) in L2;
  // row blocks are added when there are few column blocks (small late layers).
  const int64_t cap = std::max<int64_t>(64, ((512 * 1024) / std::max<int64_t>(1, K)) / 16 * 16);
  const int64_t blk = std::min(cap, std::max<int64_t>(256, ((outsz + 3) / 4 + 15) / 16 * 16));
  const int64_t ncb = (outsz + blk - 1) / blk;
  int64_t nrb = 1;
  if (ncb < 8 && Mg >= 64) nrb = std::max<int64_t>(1, std::min<int64_t>((8 + ncb - 1) / ncb, Mg / 32));
  const int64_t rbs = ((Mg + nrb - 1) / nrb + 15) / 16 * 16;
  nrb = (Mg + rbs - 1) / rbs;
  // With several row blocks, the im2col matrix is built once (block bi at col + K * j0, with
  // row stride j1 - j0) and shared by the row blocks.
  const bool shared_col = !pointwise && nrb > 1;
  std::vector<float> colbuf(shared_col ? (size_t)(K * outsz) : 0);

  // One tile t (row block x column block) of image n, group gi.
  auto tile = [&](int64_t n, int64_t gi, int64_t t, std::vector<float>& col) {
    const float* xg = x + (n * g.C + gi * Cg) * insz;
    const float* wg = w + gi * Mg * K;
    float* yg = y + (n * g.M + gi * Mg) * outsz;
    const float* bg = bias ? bias + gi * Mg : nullptr;
    const int64_t rb = t / ncb, bi = t % ncb;
    const int64_t m0 = rb * rbs, m1 = std::min(Mg, m0 + rbs);
    const int64_t j0 = bi * blk, j1 = std::min(outsz, j0 + blk), nc = j1 - j0;
    const float* B;
    int64_t ldb;
    if (pointwise) {
      B = xg + j0;
      ldb = insz;
    } else if (shared_col) {
      B = colbuf.data() + K * j0;
      ldb = nc;
    } else {
      col.resize((size_t)(K * nc));
      Im2Col(g, Cg, xg, j0, j1, col.data());
      B = col.data();
      ldb = nc;
    }
    // C starts as the bias (or 0) and sgemm accumulates with beta = 1: OpenBLAS's beta = 0
    // path zeroes C in a separate, slower pass.
    for (int64_t m = m0; m < m1; ++m) std::fill(yg + m * outsz + j0, yg + m * outsz + j1, bg ? bg[m] : 0.f);
    SgemmSerial(false, false, m1 - m0, nc, K, 1.f, wg + m0 * K, K, B, ldb, 1.f, yg + m0 * outsz + j0, outsz);
    if (act.kind != Activation::kNone) {
      for (int64_t m = m0; m < m1; ++m) BiasActivate(yg + m * outsz + j0, nc, false, 0.f, act);
    }
    if (act.HasEpilogue()) {
      ApplyEpilogueRows(*act.epilogue, yg + m0 * outsz + j0, m1 - m0, nc, outsz, gi * Mg + m0);
    }
  };
  if (!shared_col && nrb * ncb == 1 && g.N * g.G > 1) {
    // One tile per (image, group) (grouped 1-D convs over short sequences: wav2vec2's positional
    // conv, 16 groups of 49 positions): the groups spread over the threads, each tile computed
    // as it would be serially.
    ParallelOrSerial(pool, g.N * g.G, 1, [&](int64_t b, int64_t e) {
      std::vector<float> col;
      for (int64_t ng = b; ng < e; ++ng) tile(ng / g.G, ng % g.G, 0, col);
    });
    return;
  }
  for (int64_t n = 0; n < g.N; ++n) {
    for (int64_t gi = 0; gi < g.G; ++gi) {
      if (shared_col) {
        const float* xg = x + (n * g.C + gi * Cg) * insz;
        ParallelOrSerial(pool, ncb, 1, [&](int64_t b, int64_t e) {
          for (int64_t bi = b; bi < e; ++bi) {
            const int64_t j0 = bi * blk, j1 = std::min(outsz, j0 + blk);
            Im2Col(g, Cg, xg, j0, j1, colbuf.data() + K * j0);
          }
        });
      }
      ParallelOrSerial(pool, nrb * ncb, 1, [&](int64_t b, int64_t e) {
        std::vector<float> col;
        for (int64_t t = b; t < e; ++t) tile(n, gi, t, col);
      });
    }
  }
}

void ConvTransposeForward(const ConvGeom& g, const float* x, const float* w, const float* bias, float* y,
                          ThreadPool* pool) {
  const int64_t Cg = g.C / g.G, Mg = g.M / g.G;
  const int64_t insz = g.InSize(), outsz = g.OutSize(), ks = g.KSize();
  const int64_t R = Mg * ks;  // rows of the column matrix
  std::vector<float> col((size_t)(R * insz));
  for (int64_t n = 0; n < g.N; ++n) {
    for (int64_t gi = 0; gi < g.G; ++gi) {
      const float* xg = x + (n * g.C + gi * Cg) * insz;
      const float* wg = w + gi * Cg * R;  // [Cg, Mg*ks]
      float* yg = y + (n * g.M + gi * Mg) * outsz;
      // col[R, insz] = wg^T * xg
      Sgemm(pool, true, false, R, insz, Cg, 1.f, wg, R, xg, insz, 0.f, col.data(), insz);
      // col2im, parallel over output channels (each writes only its own plane).
      ParallelOrSerial(pool, Mg, 1, [&](int64_t b, int64_t e) {
        for (int64_t m = b; m < e; ++m) {
          float* ym = yg + m * outsz;
          const float bv = bias ? bias[gi * Mg + m] : 0.f;
          std::fill(ym, ym + outsz, bv);
          for (int64_t kd = 0; kd < g.k[0]; ++kd)
            for (int64_t kh = 0; kh < g.k[1]; ++kh)
              for (int64_t kw = 0; kw < g.k[2]; ++kw) {
                const float* cr = col.data() + (((m * g.k[0] + kd) * g.k[1] + kh) * g.k[2] + kw) * insz;
                const int64_t offw = kw * g.d[2] - g.pb[2];
                for (int64_t id = 0; id < g.in[0]; ++id) {
                  const int64_t od = id * g.s[0] + kd * g.d[0] - g.pb[0];
                  if (od < 0 || od >= g.out[0]) continue;
                  for (int64_t ih = 0; ih < g.in[1]; ++ih) {
                    const int64_t oh = ih * g.s[1] + kh * g.d[1] - g.pb[1];
                    if (oh < 0 || oh >= g.out[1]) continue;
                    const float* c = cr + (id * g.in[1] + ih) * g.in[2];
                    float* yr = ym + (od * g.out[1] + oh) * g.out[2];
                    for (int64_t iw = 0; iw < g.in[2]; ++iw) {
                      const int64_t ow = iw * g.s[2] + offw;
                      if (ow >= 0 && ow < g.out[2]) yr[ow] += c[iw];
                    }
                  }
                }
              }
        }
      });
    }
  }
}

void ChannelsFirstToLast(const float* x, float* y, int64_t n, int64_t c, int64_t hw, ThreadPool* pool) {
  Transpose2D(x, y, n, c, hw, pool);
}

void ChannelsLastToFirst(const float* x, float* y, int64_t n, int64_t c, int64_t hw, ThreadPool* pool) {
  Transpose2D(x, y, n, hw, c, pool);
}

}  // namespace kernels
}  // namespace dopt
