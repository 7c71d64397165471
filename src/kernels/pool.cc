#include "kernels/pool.h"

#include <algorithm>
#include <functional>
#include <limits>

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

template <typename T>
void MaxPool(const PoolGeom& g, const T* x, T* y, int64_t* indices, bool col_major, ThreadPool* pool) {
  const int64_t insz = g.InSize(), outsz = g.OutSize();
  const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(1, outsz));
  ParallelOrSerial(pool, g.planes, grain, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const T* xp = x + p * insz;
      T* yp = y + p * outsz;
      int64_t* ip = indices ? indices + p * outsz : nullptr;
      for (int64_t od = 0; od < g.out[0]; ++od) {
        int64_t d0, d1;
        Taps(od, g.s[0], g.pb[0], g.d[0], g.k[0], g.in[0], &d0, &d1);
        for (int64_t oh = 0; oh < g.out[1]; ++oh) {
          int64_t h0, h1;
          Taps(oh, g.s[1], g.pb[1], g.d[1], g.k[1], g.in[1], &h0, &h1);
          for (int64_t ow = 0; ow < g.out[2]; ++ow) {
            int64_t w0, w1;
            Taps(ow, g.s[2], g.pb[2], g.d[2], g.k[2], g.in[2], &w0, &w1);
            T best = std::numeric_limits<T>::lowest();
            if (std::numeric_limits<T>::has_infinity) best = -std::numeric_limits<T>::infinity();
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
            const int64_t o = (od * g.out[1] + oh) * g.out[2] + ow;
            yp[o] = best;
            if (ip) ip[o] = p * insz + std::max<int64_t>(bi, 0);
          }
        }
      }
    }
  });
}

template void MaxPool<float>(const PoolGeom&, const float*, float*, int64_t*, bool, ThreadPool*);
template void MaxPool<int8_t>(const PoolGeom&, const int8_t*, int8_t*, int64_t*, bool, ThreadPool*);
template void MaxPool<uint8_t>(const PoolGeom&, const uint8_t*, uint8_t*, int64_t*, bool, ThreadPool*);

void AveragePool(const PoolGeom& g, const float* x, float* y, bool count_include_pad, ThreadPool* pool) {
  const int64_t insz = g.InSize(), outsz = g.OutSize();
  const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(1, outsz));
  // Taps counted with padding: positions inside [-pb, in + pe).
  auto padded = [&](int64_t o, int dim) {
    int64_t lo, hi;
    Taps(o, g.s[dim], 0, g.d[dim], g.k[dim], g.in[dim] + g.pb[dim] + g.pe[dim], &lo, &hi);
    return hi - lo;
  };
  ParallelOrSerial(pool, g.planes, grain, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const float* xp = x + p * insz;
      float* yp = y + p * outsz;
      for (int64_t od = 0; od < g.out[0]; ++od) {
        int64_t d0, d1;
        Taps(od, g.s[0], g.pb[0], g.d[0], g.k[0], g.in[0], &d0, &d1);
        for (int64_t oh = 0; oh < g.out[1]; ++oh) {
          int64_t h0, h1;
          Taps(oh, g.s[1], g.pb[1], g.d[1], g.k[1], g.in[1], &h0, &h1);
          for (int64_t ow = 0; ow < g.out[2]; ++ow) {
            int64_t w0, w1;
            Taps(ow, g.s[2], g.pb[2], g.d[2], g.k[2], g.in[2], &w0, &w1);
            float sum = 0.f;
            for (int64_t kd = d0; kd < d1; ++kd) {
              const int64_t id = od * g.s[0] - g.pb[0] + kd * g.d[0];
              for (int64_t kh = h0; kh < h1; ++kh) {
                const int64_t ih = oh * g.s[1] - g.pb[1] + kh * g.d[1];
                const float* row = xp + (id * g.in[1] + ih) * g.in[2] + ow * g.s[2] - g.pb[2];
                for (int64_t kw = w0; kw < w1; ++kw) sum += row[kw * g.d[2]];
              }
            }
            int64_t count = count_include_pad ? padded(od, 0) * padded(oh, 1) * padded(ow, 2)
                                              : (d1 - d0) * (h1 - h0) * (w1 - w0);
            yp[(od * g.out[1] + oh) * g.out[2] + ow] = count > 0 ? sum / (float)count : 0.f;
          }
        }
      }
    }
  });
}

}  // namespace kernels
}  // namespace dopt
