// min/max for TensorFlow's FakeQuantWithMinMaxVars that reproduce dopt's activation grid
// (real = scale * (q - zero_point), q in [-2^(bits-1), 2^(bits-1) - 1]). TF "nudges" the range
// it is given: scale = (max - min) / (2^bits - 1) in float32 and an unsigned zero point
// round(-min / scale); FakeQuantMinMax picks float min/max (searching a few ulps around
// (qmin - zp) * scale and (qmax - zp) * scale) for which that nudged scale is dopt's scale
// bit for bit and the nudged zero point is zp - qmin.
#pragma once

#include <cstdint>

namespace dopt {

struct FakeQuantRange {
  float min = 0, max = 0;
  bool exact = false;  // TF's nudged scale equals `scale` exactly (else off by an ulp)
};

// TF's nudging (tensorflow/core/kernels/fake_quant_ops_functor.h, Nudge), for checks and tests.
void TfNudge(float min, float max, int bits, float* nudged_scale, int32_t* nudged_zero_point);

FakeQuantRange FakeQuantMinMax(float scale, int32_t zero_point, int bits);

}  // namespace dopt
