// A streaming histogram of a tensor's values for range calibration.
//
// Bins cover [-R, R] symmetrically around zero (R a power of two): v falls in bin
// bins/2 + floor(v * bins / 2R), computed exactly, so a value just below zero is never in zero's
// bin. When new data falls outside, R doubles and pairs of bins merge, so counts stay exact
// (the same as binning everything at the final R) and nothing is ever stored but the counts.
// The exact minimum and maximum are tracked beside the bins (a zero one as +0).
#pragma once

#include <cstdint>
#include <vector>

#include "common/thread_pool.h"

namespace dopt {

// Tests only: caps the instruction set Histogram::Add uses (0: SSE2, 1: AVX2, 2: AVX-512; the
// CPU's best by default, never above it) so that each version can be checked on one host.
void SetHistogramIsaForTesting(int max_level);

class Histogram {
 public:
  // num_bins must be even; 0 keeps only the minimum, the maximum and the count (all that the
  // minmax method reads), skipping the binning.
  explicit Histogram(int num_bins = 2048);

  // Adds n values. NaNs are skipped; infinities are counted in min/max only.
  void Add(const float* data, int64_t n);
  // Same result as Add(), computed with the pool's threads (counts are integers, so the
  // split never changes the result).
  void Add(const float* data, int64_t n, ThreadPool* pool);
  // Adds another histogram's counts (used to merge per-thread partial histograms).
  void Merge(const Histogram& other);

  int num_bins() const { return (int)counts_.size(); }
  double range() const { return range_; }  // R: bins span [-R, R]
  double bin_width() const { return 2 * range_ / counts_.size(); }
  double bin_lower(int i) const { return -range_ + i * bin_width(); }
  const std::vector<uint64_t>& counts() const { return counts_; }
  uint64_t total() const { return total_; }
  float min() const { return min_; }
  float max() const { return max_; }
  bool empty() const { return total_ == 0; }

 private:
  void GrowTo(double needed);
  // Takes in `valid` more values whose extremes are lo and hi.
  void Extend(float lo, float hi, uint64_t valid);

  std::vector<uint64_t> counts_;
  double range_ = 0;
  uint64_t total_ = 0;
  // How many of the last bin's values are exactly +R (clamped into it): growth moves them apart.
  uint64_t at_range_ = 0;
  float min_ = 0, max_ = 0;
};

}  // namespace dopt
