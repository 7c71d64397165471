#include "kernels/moments.h"

#include <algorithm>
#include <vector>

#include "common/thread_pool.h"
#include "kernels/clones.h"

namespace dopt {
namespace kernels {
namespace {

constexpr int kLanes = 16;

double AddLanes(const double* l) {
  double a[8];
  for (int i = 0; i < 8; ++i) a[i] = l[i] + l[i + 8];
  for (int i = 0; i < 4; ++i) a[i] += a[i + 4];
  return (a[0] + a[2]) + (a[1] + a[3]);
}

// Sum of x[0..n) (n <= kMomentsChunk) in the lane order.
DOPT_KERNEL_CLONES double ChunkSum(const float* x, int64_t n) {
  double l[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) l[j] += (double)x[i + j];
  for (int j = 0; i + j < n; ++j) l[j] += (double)x[i + j];
  return AddLanes(l);
}

// Sum of (x[i] - mean)^2 over x[0..n) in the lane order.
DOPT_KERNEL_CLONES double ChunkSquares(const float* x, int64_t n, double mean) {
  double l[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      const double d = (double)x[i + j] - mean;
      l[j] += d * d;
    }
  for (int j = 0; i + j < n; ++j) {
    const double d = (double)x[i + j] - mean;
    l[j] += d * d;
  }
  return AddLanes(l);
}

}  // namespace

Moments ComputeMoments(const float* x, int64_t n) { return ComputeMomentsParallel(x, n, nullptr); }

Moments ComputeMomentsParallel(const float* x, int64_t n, ThreadPool* pool) {
  if (n <= 0) return Moments{};
  const int64_t chunks = (n + kMomentsChunk - 1) / kMomentsChunk;
  std::vector<double> part((size_t)chunks);
  auto each = [&](auto&& f) {
    auto body = [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        const int64_t b = c * kMomentsChunk;
        part[(size_t)c] = f(x + b, std::min(kMomentsChunk, n - b));
      }
    };
    if (pool && chunks > 1) pool->ParallelFor(chunks, 1, body);
    else body(0, chunks);
    double s = 0;
    for (double p : part) s += p;
    return s;
  };
  const double mean = each([](const float* p, int64_t k) { return ChunkSum(p, k); }) / (double)n;
  const double sq = each([mean](const float* p, int64_t k) { return ChunkSquares(p, k, mean); });
  Moments m;
  m.mean = mean;
  m.var = sq / (double)n;
  return m;
}

DOPT_KERNEL_CLONES void NormalizeAffine(const float* x, float* y, int64_t n, float mean, float a, float b) {
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * a + b;
}

DOPT_KERNEL_CLONES void NormalizeScaleBias(const float* x, float* y, int64_t n, float mean, float inv, const float* s,
                                           const float* b) {
  if (b) {
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * inv * s[i] + b[i];
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * inv * s[i];
  }
}

DOPT_KERNEL_CLONES void ScaleShift(const float* x, float* y, int64_t n, float a, float b) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * a + b;
}

DOPT_KERNEL_CLONES void ScaleShiftRows(const float* x, float* y, int64_t rows, int64_t n, const float* a,
                                       const float* b) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    for (int64_t j = 0; j < n; ++j) yr[j] = xr[j] * a[j] + b[j];
  }
}

}  // namespace kernels
}  // namespace dopt
