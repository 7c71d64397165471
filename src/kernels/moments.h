// Mean and population variance of float arrays, accumulated in double, for the normalization
// ops (LayerNormalization, InstanceNormalization, GroupNormalization, the fused GroupNorm).
//
// The order of the additions is fixed by n alone: the array is cut into chunks of kMomentsChunk
// elements; within a chunk element i goes to lane i % 16 and the 16 lane sums are added in a
// fixed tree; the chunk sums are added in order. So a chunked parallel run (MomentsParallel)
// gives the same bits as a serial one, on any thread count, and every ISA clone gives the same
// bits (no FMA contraction: plain AVX2 and baseline clones only). The variance is a second pass
// over the squared deviations from the mean, as before (no cancellation of E[x^2] - E[x]^2).
#pragma once

#include <cstdint>

namespace dopt {
class ThreadPool;
namespace kernels {

constexpr int64_t kMomentsChunk = 16384;

struct Moments {
  double mean = 0;
  double var = 0;
};

// n == 0 gives mean 0, variance 0.
Moments ComputeMoments(const float* x, int64_t n);
// The same bits, the chunks spread over the pool's threads (pool may be null).
Moments ComputeMomentsParallel(const float* x, int64_t n, ThreadPool* pool);

// y[i] = (x[i] - mean) * a + b for i < n (x and y may be the same array). The same bits on
// every CPU.
void NormalizeAffine(const float* x, float* y, int64_t n, float mean, float a, float b);
// y[i] = (x[i] - mean) * inv * s[i] + b[i] (no b: without the add), per element scale and bias
// (LayerNormalization), rounded after each operation on every ISA (no contraction).
void NormalizeScaleBias(const float* x, float* y, int64_t n, float mean, float inv, const float* s, const float* b);
// y[i] = x[i] * a + b for i < n (BatchNormalization's plane of one channel), and per column:
// y[r * n + j] = x[r * n + j] * a[j] + b[j] for r < rows (its channels-last rows). Rounded after
// each operation on every ISA (no contraction): both give the same bits for an element.
void ScaleShift(const float* x, float* y, int64_t n, float a, float b);
void ScaleShiftRows(const float* x, float* y, int64_t rows, int64_t n, const float* a, const float* b);

}  // namespace kernels
}  // namespace dopt
