#include "calib/histogram.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace dopt {

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
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  double finite_abs = 0;
  int64_t valid = 0;
  for (int64_t i = 0; i < n; ++i) {
    float v = data[i];
    if (std::isnan(v)) continue;
    ++valid;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    if (std::isfinite(v)) finite_abs = std::max(finite_abs, (double)std::fabs(v));
  }
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
  for (int64_t i = 0; i < n; ++i) {
    float v = data[i];
    if (!std::isfinite(v)) continue;
    int b = (int)std::floor((v + range_) * scale);
    b = std::min(std::max(b, 0), nb - 1);
    ++counts_[b];
  }
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
