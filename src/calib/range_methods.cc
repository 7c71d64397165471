#include "calib/range_methods.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace dopt {

StatusOr<CalibMethod> ParseCalibMethod(const std::string& name) {
  if (name == "minmax") return CalibMethod::kMinMax;
  if (name == "kl" || name == "entropy") return CalibMethod::kKL;
  if (name == "percentile") return CalibMethod::kPercentile;
  if (name == "mse") return CalibMethod::kMSE;
  return InvalidArgument("unknown calibration method '" + name + "' (supported: minmax, kl, percentile, mse)");
}

const char* CalibMethodName(CalibMethod m) {
  switch (m) {
    case CalibMethod::kMinMax: return "minmax";
    case CalibMethod::kKL: return "kl";
    case CalibMethod::kPercentile: return "percentile";
    case CalibMethod::kMSE: return "mse";
  }
  return "?";
}

namespace {

FloatRange WithZero(float lo, float hi) {
  if (!std::isfinite(lo)) lo = lo < 0 ? -std::numeric_limits<float>::max() : 0;
  if (!std::isfinite(hi)) hi = hi > 0 ? std::numeric_limits<float>::max() : 0;
  return {std::min(lo, 0.f), std::max(hi, 0.f)};
}

// KL-divergence threshold search on the histogram of |x| (TensorRT's entropy calibration):
// for each candidate threshold, compare the clipped reference distribution P with its
// quantisation to `levels` bins Q, and keep the threshold with the smallest KL(P || Q).
double KLThreshold(const Histogram& h, int levels) {
  const int n = h.num_bins(), half = n / 2;
  std::vector<double> absh(half, 0);
  for (int j = 0; j < half; ++j) absh[j] = (double)h.counts()[half + j] + (double)h.counts()[half - 1 - j];
  int last = half;
  while (last > 0 && absh[last - 1] == 0) --last;
  if (last == 0) return 0;
  const int start = std::min(levels, last);
  double best_kl = std::numeric_limits<double>::infinity();
  int best_i = last;
  std::vector<double> p, q;
  double tail = 0;
  for (int j = start; j < half; ++j) tail += absh[j];
  for (int i = start; i <= last; ++i) {
    if (i > start) tail -= absh[i - 1];
    p.assign(absh.begin(), absh.begin() + i);
    p[i - 1] += tail;  // outliers clipped into the last bin
    // Quantise the unclipped first i bins into `levels` groups, spreading each group's mass
    // evenly over its non-empty bins.
    q.assign(i, 0);
    for (int g = 0; g < levels; ++g) {
      int b0 = (int)((int64_t)g * i / levels), b1 = (int)((int64_t)(g + 1) * i / levels);
      if (b1 <= b0) continue;
      double mass = 0;
      int nonzero = 0;
      for (int b = b0; b < b1; ++b) {
        mass += absh[b];
        if (absh[b] != 0) ++nonzero;
      }
      if (nonzero == 0) continue;
      for (int b = b0; b < b1; ++b)
        if (absh[b] != 0) q[b] = mass / nonzero;
    }
    double ps = 0, qs = 0;
    for (int b = 0; b < i; ++b) {
      ps += p[b];
      qs += q[b];
    }
    if (ps <= 0 || qs <= 0) continue;
    double kl = 0;
    for (int b = 0; b < i; ++b) {
      if (p[b] == 0) continue;
      double pp = p[b] / ps;
      double qq = q[b] / qs;
      if (qq <= 0) qq = 1e-12;  // smoothing: P has mass where Q has none
      kl += pp * std::log(pp / qq);
    }
    if (kl < best_kl) {
      best_kl = kl;
      best_i = i;
    }
  }
  return std::min(h.range(), best_i * h.bin_width());  // upper edge of the last kept |x| bin
}

// Value below which a fraction `frac` of the samples lie.
double Quantile(const Histogram& h, double frac) {
  const auto& c = h.counts();
  double target = frac * (double)h.total();
  double acc = 0;
  for (int i = 0; i < h.num_bins(); ++i) {
    double next = acc + (double)c[i];
    if (next >= target && c[i] > 0) {
      double within = (target - acc) / (double)c[i];
      return h.bin_lower(i) + within * h.bin_width();
    }
    acc = next;
  }
  return h.range();
}

// The non-empty bins of a histogram (centre, count), in bin order: what the error sums run over.
struct Occupied {
  std::vector<double> x, c;
};

Occupied OccupiedBins(const Histogram& h) {
  Occupied o;
  const double w = h.bin_width();
  const auto& c = h.counts();
  for (int i = 0; i < h.num_bins(); ++i) {
    if (!c[i]) continue;
    o.x.push_back(h.bin_lower(i) + 0.5 * w);
    o.c.push_back((double)c[i]);
  }
  return o;
}

// HistogramQuantError's sum over the occupied bins only: the same terms in the same order.
double QuantError(const Occupied& bins, double w, const QuantParams& q) {
  const double lo = (q.qmin - q.zero_point) * (double)q.scale;
  const double hi = (q.qmax - q.zero_point) * (double)q.scale;
  const double rounding = (double)q.scale * q.scale / 12.0;
  double err = 0;
  for (size_t i = 0; i < bins.x.size(); ++i) {
    const double x = bins.x[i];
    const double d = x < lo ? lo - x : x > hi ? x - hi : 0.0;
    err += bins.c[i] * (d > 0 ? d * d + w * w / 12.0 : rounding);
  }
  return err;
}

FloatRange MSERange(const Histogram& h, const RangeOptions& o) {
  const int bits = (int)std::lround(std::log2((double)o.quant_levels));
  const FloatRange full = WithZero(h.min(), h.max());
  // Hundreds of candidate ranges: the occupied bins are listed once.
  const Occupied bins = OccupiedBins(h);
  const double w = h.bin_width();
  auto error = [&](FloatRange r) { return QuantError(bins, w, ChooseQuantParams(r, bits, o.symmetric)); };
  FloatRange best = full;
  double best_err = error(full);
  constexpr int kSteps = 128;
  if (o.symmetric) {
    const double m = std::max(-full.lo, full.hi);
    for (int k = 1; k < kSteps; ++k) {
      float t = (float)(m * k / kSteps);
      FloatRange r{std::max(full.lo, -t), std::min(full.hi, t)};
      double e = error(r);
      if (e < best_err) best_err = e, best = r;
    }
    return best;
  }
  // Coordinate descent: the best upper end for the current lower end, then the reverse.
  for (int round = 0; round < 2; ++round) {
    for (int end = 0; end < 2; ++end) {
      FloatRange base = best;
      for (int k = 1; k <= kSteps; ++k) {
        FloatRange r = base;
        if (end == 0) r.hi = (float)(full.hi * k / kSteps);
        else r.lo = (float)(full.lo * k / kSteps);
        double e = error(r);
        if (e < best_err) best_err = e, best = r;
      }
    }
  }
  return best;
}

}  // namespace

double HistogramQuantError(const Histogram& h, const QuantParams& q) {
  // Inside the representable range, rounding error is taken as uniform (s^2 / 12 per value);
  // outside it, the value is clipped to the nearest end: squared distance from the bin centre.
  return QuantError(OccupiedBins(h), h.bin_width(), q);
}

FloatRange ComputeRange(const Histogram& h, CalibMethod method, const RangeOptions& o) {
  if (h.empty()) return {0, 0};
  FloatRange full = WithZero(h.min(), h.max());
  switch (method) {
    case CalibMethod::kMinMax:
      return full;
    case CalibMethod::kPercentile: {
      double p = std::min(100.0, std::max(50.0, o.percentile)) / 100.0;
      double lo = Quantile(h, 1.0 - p), hi = Quantile(h, p);
      return WithZero((float)std::max((double)full.lo, lo), (float)std::min((double)full.hi, hi));
    }
    case CalibMethod::kKL: {
      double t = KLThreshold(h, o.quant_levels / 2);
      return WithZero((float)std::max((double)full.lo, -t), (float)std::min((double)full.hi, t));
    }
    case CalibMethod::kMSE:
      return MSERange(h, o);
  }
  return full;
}

QuantParams ChooseQuantParams(FloatRange r, int bits, bool symmetric) {
  QuantParams q;
  q.qmin = -(1 << (bits - 1));
  q.qmax = (1 << (bits - 1)) - 1;
  r = WithZero(r.lo, r.hi);
  if (symmetric) {
    double m = std::max(std::fabs((double)r.lo), std::fabs((double)r.hi));
    q.scale = m > 0 ? (float)(m / q.qmax) : 1.f;
    q.zero_point = 0;
    return q;
  }
  double width = (double)r.hi - (double)r.lo;
  if (!(width > 0)) {
    q.scale = 1.f;
    q.zero_point = 0;
    return q;
  }
  q.scale = (float)(width / (q.qmax - q.qmin));
  double zp = std::nearbyint(q.qmin - r.lo / q.scale);
  q.zero_point = (int32_t)std::min<double>(std::max<double>(zp, q.qmin), q.qmax);
  return q;
}

}  // namespace dopt
