// Vectorised float transcendental functions over arrays, for the element-wise ops (Exp,
// Sigmoid, Tanh, Erf, Gelu) and the softmax exp pass. Each is a branch-free range reduction and
// polynomial (Cephes-style for exp and tanh, polynomials fitted for erf) that GCC
// auto-vectorises, in AVX-512, AVX2 + FMA, AVX2 and baseline (SSE2) clones
// (kernels/clones.h).
//
// Accuracy against the double-precision function, for every float input (tests/unit/
// vmath_test.cc): exp, sigmoid and tanh within 3e-7 relative where the result is normal (measured
// 0.8e-7, 1.7e-7, 1.4e-7), erf within 3e-7 relative or 1.5e-7 absolute (measured 1.9e-7). Special values as std:: does: NaN propagates, exp(-inf) = 0,
// exp(+inf) = inf, exp overflows to inf above 88.72 and underflows through the subnormals to 0,
// sigmoid(-inf) = 0 and sigmoid(+inf) = 1 (never NaN), tanh/erf(+-inf) = +-1, tanh/erf keep -0.
//
// Each element's result depends on its value only, never on n or its position in the array
// (the tail goes through the same block code, zero-padded), so a chunked parallel run gives the
// same bits as one call. Across CPUs the last bit may differ (the AVX-512 and AVX2 + FMA versions
// contract to FMA). x and y may be the same array.
#pragma once

#include <cmath>
#include <cstdint>

namespace dopt {
namespace kernels {

// The reference kernels' sigmoid (DOPT_REFERENCE_KERNELS=1): std::exp evaluated so that it
// never overflows. Ops/sigmoid.cc and the Conv epilogue's Sigmoid step both use it.
inline float SigmoidReference(float x) {
  if (x >= 0.f) return 1.f / (1.f + std::exp(-x));
  const float e = std::exp(x);
  return e / (1.f + e);
}

// The reference kernels' Gelu (ops/gelu.cc and the Conv epilogue's Gelu step): approximate
// "none" with std::erf, "tanh" with std::tanh.
inline float GeluErfReference(float x) { return 0.5f * x * (1.f + std::erf(x * 0.7071067811865476f)); }
inline float GeluTanhReference(float x) {
  const float k = 0.7978845608028654f;  // sqrt(2 / pi)
  return 0.5f * x * (1.f + std::tanh(k * (x + 0.044715f * x * x * x)));
}

void ExpArray(const float* x, float* y, int64_t n);
// y = 1 / (1 + exp(-x)).
void SigmoidArray(const float* x, float* y, int64_t n);
// SiLU: y = x * sigmoid(x), the product of x and SigmoidArray's value (the bits of Sigmoid then
// Mul, in one pass).
void SiluArray(const float* x, float* y, int64_t n);
void TanhArray(const float* x, float* y, int64_t n);
void ErfArray(const float* x, float* y, int64_t n);
// Gelu, approximate "none": y = 0.5 * x * (1 + erf(x / sqrt(2))).
void GeluErfArray(const float* x, float* y, int64_t n);
// Gelu, approximate "tanh": y = 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))).
void GeluTanhArray(const float* x, float* y, int64_t n);

// One softmax lane: y = exp(x - max) / sum, with max the exact MaxArray (0 when all of x is
// -infinity), exp(x - max) with ExpArray's bits, their sum in double over 16 interleaved partials
// (k mod 16, added in order at the end: the same sum on every CPU), and one float reciprocal of
// the sum multiplied in. x and y may be the same array.
void SoftmaxArray(const float* x, float* y, int64_t n);

// The largest of x[0..n), NaNs ignored; -infinity when n == 0 or all are NaN. Exact, so the same
// value as the sequential loop `m = x[k] > m ? x[k] : m` (up to the sign of a zero maximum).
float MaxArray(const float* x, int64_t n);

}  // namespace kernels
}  // namespace dopt
