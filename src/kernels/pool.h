// Pooling kernels over NC[D]HW tensors with 1-3 spatial dims (handled as 3-D).
#pragma once

#include <cstdint>
#include <vector>

#include "common/thread_pool.h"

namespace dopt {
namespace kernels {

struct PoolGeom {
  int64_t planes = 1;  // N * C
  int64_t in[3] = {1, 1, 1};
  int64_t out[3] = {1, 1, 1};
  int64_t k[3] = {1, 1, 1};
  int64_t s[3] = {1, 1, 1};
  int64_t d[3] = {1, 1, 1};
  int64_t pb[3] = {0, 0, 0};
  int64_t pe[3] = {0, 0, 0};
  // From per-spatial-dim vectors (length 1-3); pads has 2*n entries (begins then ends).
  void Set(const std::vector<int64_t>& in_, const std::vector<int64_t>& out_, const std::vector<int64_t>& k_,
           const std::vector<int64_t>& s_, const std::vector<int64_t>& d_, const std::vector<int64_t>& pads);
  int64_t InSize() const { return in[0] * in[1] * in[2]; }
  int64_t OutSize() const { return out[0] * out[1] * out[2]; }
};

// Max pooling for float, int8 or uint8. `indices` (may be null) receives the flat index of
// each maximum over the whole input (row-major, or column-major spatial when col_major).
template <typename T>
void MaxPool(const PoolGeom& g, const T* x, T* y, int64_t* indices, bool col_major, ThreadPool* pool);

// Average pooling; count_include_pad counts padding positions (not the ceil_mode overhang).
void AveragePool(const PoolGeom& g, const float* x, float* y, bool count_include_pad, ThreadPool* pool);

// Channels-last ([planes, spatial..., channels]) float max / average pooling, g.planes = N.
// Same values as the channels-first kernels (max is exact; the average sums the same taps in
// the same order).
void MaxPoolChannelsLast(const PoolGeom& g, int64_t channels, const float* x, float* y, ThreadPool* pool);
void AveragePoolChannelsLast(const PoolGeom& g, int64_t channels, const float* x, float* y, bool count_include_pad,
                             ThreadPool* pool);

}  // namespace kernels
}  // namespace dopt
