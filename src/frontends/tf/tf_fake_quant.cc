#include "frontends/tf/tf_fake_quant.h"

#include <cmath>
#include <initializer_list>

namespace dopt {

void TfNudge(float min, float max, int bits, float* nudged_scale, int32_t* nudged_zero_point) {
  const float quant_min = 0.f, quant_max = (float)((1 << bits) - 1);
  const float scale = (max - min) / (quant_max - quant_min);
  const float zero_point_from_min = quant_min - min / scale;
  int32_t zp;
  if (zero_point_from_min < quant_min) zp = 0;
  else if (zero_point_from_min > quant_max) zp = (int32_t)quant_max;
  else zp = (int32_t)std::round(zero_point_from_min);
  *nudged_scale = scale;
  *nudged_zero_point = zp;
}

FakeQuantRange FakeQuantMinMax(float scale, int32_t zero_point, int bits) {
  const int32_t qmin = -(1 << (bits - 1)), qmax = (1 << (bits - 1)) - 1;
  const float min0 = (float)((double)(qmin - zero_point) * scale);
  const float max0 = (float)((double)(qmax - zero_point) * scale);
  FakeQuantRange r{min0, max0, false};
  // Try min/max a few ulps either side, nearest first; keep min exactly 0 when the zero point
  // is qmin (ranges starting at zero, e.g. after ReLU).
  auto step = [](float v, int k) {
    for (; k > 0; --k) v = std::nextafter(v, INFINITY);
    for (; k < 0; ++k) v = std::nextafter(v, -INFINITY);
    return v;
  };
  const int kUlps = 8;
  for (int d = 0; d <= 2 * kUlps; ++d) {
    for (int dmax = -d; dmax <= d; ++dmax) {
      const int rest = d - std::abs(dmax);
      for (int dmin : {-rest, rest}) {
        if (min0 == 0.f && dmin != 0) continue;
        const float mn = step(min0, dmin), mx = step(max0, dmax);
        float s;
        int32_t z;
        TfNudge(mn, mx, bits, &s, &z);
        if (s == scale && z == zero_point - qmin) return {mn, mx, true};
        if (rest == 0) break;
      }
    }
  }
  return r;
}

}  // namespace dopt
