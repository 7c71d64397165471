#include "quant/quant_params.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace dopt {

namespace {

// A usable scale: finite and at least the smallest normal float; anything else (a zero
// slice, underflow) becomes 1 so that dequantization never divides by zero or makes inf/NaN.
float SafeScale(double s) {
  if (!(s >= (double)std::numeric_limits<float>::min()) || !std::isfinite(s) ||
      s > (double)std::numeric_limits<float>::max())
    return 1.f;
  return (float)s;
}

}  // namespace

StatusOr<TensorQuant> WeightQuant(const std::string& name, const Tensor& w, int axis, bool per_channel, int bits,
                                  int limit) {
  TensorQuant q;
  q.tensor = name;
  q.bits = bits;
  q.symmetric = true;
  const int full = (1 << (bits - 1)) - 1;
  if (limit < 0 || limit > full) {
    return InvalidArgument("weight '" + name + "': weight limit " + std::to_string(limit) + " (1 to " +
                           std::to_string(full) + " expected)");
  }
  const double qmax = (double)(limit > 0 ? limit : full);
  Tensor wf = w.dtype() == DType::kFloat32 ? w : w.CastTo(DType::kFloat32);
  const float* p = wf.data<float>();
  if (axis >= wf.rank()) {
    return InvalidArgument("weight '" + name + "': channel axis " + std::to_string(axis) + " is out of range for shape " +
                           ShapeToString(wf.shape()));
  }
  int64_t channels = 1, inner = wf.numel(), outer = 1;
  if (per_channel && axis >= 0) {
    channels = wf.dim(axis);
    inner = 1;
    for (int d = axis + 1; d < wf.rank(); ++d) inner *= wf.dim(d);
    outer = channels ? wf.numel() / (channels * inner) : 0;
    q.axis = axis;
  }
  std::vector<double> amax((size_t)channels, 0.0);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < channels; ++c) {
      const float* s = p + (o * channels + c) * inner;
      double m = amax[c];
      for (int64_t i = 0; i < inner; ++i) {
        if (!std::isfinite(s[i])) return InvalidArgument("weight '" + name + "' holds a non-finite value (NaN or inf)");
        m = std::max(m, (double)std::fabs(s[i]));
      }
      amax[c] = m;
    }
  for (int64_t c = 0; c < channels; ++c) {
    q.scales.push_back(SafeScale(amax[c] / qmax));
    q.zero_points.push_back(0);
  }
  return q;
}

TensorQuant ActivationQuant(const std::string& name, FloatRange r, int bits, bool symmetric) {
  QuantParams p = ChooseQuantParams(r, bits, symmetric);
  TensorQuant q;
  q.tensor = name;
  q.bits = bits;
  q.symmetric = symmetric;
  q.scales = {SafeScale(p.scale)};
  q.zero_points = {p.zero_point};
  q.range_min = std::min(r.lo, 0.f);
  q.range_max = std::max(r.hi, 0.f);
  return q;
}

StatusOr<TensorQuant> BiasQuant(const std::string& name, const TensorQuant& input, const TensorQuant& weight,
                                int64_t channels) {
  TensorQuant q;
  q.tensor = name;
  q.bits = 32;
  q.symmetric = true;
  if (input.scales.size() != 1) return Internal("bias '" + name + "': the input has no single scale");
  const double si = input.scales[0];
  const size_t nw = weight.scales.size();
  if (nw == 1) {
    q.scales = {SafeScale(si * weight.scales[0])};
    q.zero_points = {0};
    return q;
  }
  if (nw == 0 || channels % (int64_t)nw != 0) {
    return InvalidArgument("bias '" + name + "' has " + std::to_string(channels) + " values for " + std::to_string(nw) +
                           " weight channels");
  }
  q.axis = 0;
  for (int64_t c = 0; c < channels; ++c) {
    q.scales.push_back(SafeScale(si * weight.scales[(size_t)c % nw]));
    q.zero_points.push_back(0);
  }
  return q;
}

int32_t QuantizeValue(float x, const TensorQuant& q, int c) {
  const float s = q.scales[q.scales.size() == 1 ? 0 : c];
  const int32_t zp = q.zero_points[q.zero_points.size() == 1 ? 0 : c];
  const double qmin = q.bits >= 32 ? -2147483648.0 : -(double)(1LL << (q.bits - 1));
  const double qmax = q.bits >= 32 ? 2147483647.0 : (double)((1LL << (q.bits - 1)) - 1);
  double v = std::nearbyint((double)x / s) + zp;
  return (int32_t)std::min(qmax, std::max(qmin, v));
}

}  // namespace dopt
