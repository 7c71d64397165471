// From an observed histogram to a clipping range, by method. Pure functions; no tensors.
#pragma once

#include <string>
#include <vector>

#include "calib/histogram.h"
#include "dopt/status.h"

namespace dopt {

enum class CalibMethod { kMinMax, kKL, kPercentile, kMSE };

StatusOr<CalibMethod> ParseCalibMethod(const std::string& name);  // "minmax", "kl", "percentile", "mse"
const char* CalibMethodName(CalibMethod m);

struct FloatRange {
  float lo = 0, hi = 0;
};

struct RangeOptions {
  double percentile = 99.99;  // for kPercentile, in (50, 100]
  int quant_levels = 256;     // 2^bits of the target integer type
  bool symmetric = false;     // the range will be used with zero point 0
};

// The clipping range for one tensor's histogram. Always returns lo <= 0 <= hi (int8
// quantization must represent zero exactly) and never NaN.
FloatRange ComputeRange(const Histogram& h, CalibMethod method, const RangeOptions& options);

// Integer quantization parameters of a range: real = scale * (q - zero_point).
struct QuantParams {
  float scale = 1;
  int32_t zero_point = 0;
  int32_t qmin = -128, qmax = 127;
};

// Asymmetric: the full [qmin, qmax] spans [lo, hi]; symmetric: zero point 0 and
// scale = max(|lo|, |hi|) / qmax. A zero-width range gets scale 1 (never 0, inf or NaN).
QuantParams ChooseQuantParams(FloatRange r, int bits, bool symmetric);

// Sum over the histogram of the squared error of quantising then dequantising each bin's
// centre with params `q` (the quantity the mse method minimises).
double HistogramQuantError(const Histogram& h, const QuantParams& q);

}  // namespace dopt
