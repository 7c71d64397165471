#include "kernels/vmath.h"

#include <bit>
#include <cstring>
#include <limits>

#include "kernels/clones.h"

namespace dopt {
namespace kernels {
namespace {

// Elements per block: every call runs whole blocks through one fixed-trip-count loop, which
// GCC vectorises without a scalar epilogue; the tail is zero-padded into a block.
constexpr int kBlock = 64;

#define DOPT_VMATH_INLINE inline __attribute__((always_inline))

DOPT_VMATH_INLINE float AsFloat(uint32_t u) { return std::bit_cast<float>(u); }
DOPT_VMATH_INLINE uint32_t AsBits(float f) { return std::bit_cast<uint32_t>(f); }

// exp(x): x = n ln2 + r with |r| <= ln2 / 2 (n rounded by the 1.5 * 2^23 trick, ln2 in two
// parts so that n * ln2_hi is exact), exp(r) by Cephes' degree-5 polynomial, and the result
// scaled by 2^n as two factors 2^(n/2) 2^(n - n/2) so that overflow to inf and gradual underflow
// happen in the last (single-rounded) multiply. Clamping x to [-104, 88.8] keeps n in [-150, 128];
// the comparisons are false for NaN, which then propagates through the polynomial.
DOPT_VMATH_INLINE float ExpCore(float x) {
  x = x > 88.8f ? 88.8f : x;
  x = x < -104.f ? -104.f : x;
  const float kRound = 12582912.f;  // 1.5 * 2^23
  const float t = x * 1.44269504088896341f + kRound;
  const float n = t - kRound;
  const int32_t ni = (int32_t)(AsBits(t) - AsBits(kRound));
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  const float z = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * z + r + 1.f;
  const int32_t n1 = ni >> 1;
  const int32_t n2 = ni - n1;
  const float s1 = AsFloat(((uint32_t)n1 + 127u) << 23);
  const float s2 = AsFloat(((uint32_t)n2 + 127u) << 23);
  return p * s1 * s2;
}

// sigmoid(x) = 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0, with e = exp(-|x|) <= 1: no
// overflow (never NaN for large |x|), and the tiny results of very negative x keep their
// relative accuracy down into the subnormals.
DOPT_VMATH_INLINE float SigmoidCore(float x) {
  const float e = ExpCore(-AsFloat(AsBits(x) & 0x7fffffffu));
  return (x < 0.f ? e : 1.f) / (1.f + e);
}

DOPT_VMATH_INLINE float SiluCore(float x) { return SigmoidCore(x) * x; }

DOPT_VMATH_INLINE float WithSignOf(float magnitude, float x) {
  return AsFloat(AsBits(magnitude) | (AsBits(x) & 0x80000000u));
}

// tanh(x): |x| < 0.625 by Cephes' odd polynomial a + a^3 P(a^2); above, 1 - 2 / (exp(2a) + 1)
// (exp overflows to inf for large a, giving 1). Both are computed and one selected; the sign
// of x is put back last (so -0 stays -0).
DOPT_VMATH_INLINE float TanhCore(float x) {
  const float a = AsFloat(AsBits(x) & 0x7fffffffu);
  const float z = a * a;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = a + a * z * p;
  const float big = 1.f - 2.f / (ExpCore(a + a) + 1.f);
  return WithSignOf(a < 0.625f ? small : big, x);
}

// erf(x): |x| < 0.921875 by a P(a^2) (degree 5, fitted); up to 3.9375 (above which erf rounds
// to 1) by 1 - exp(-a^2) R(a - 2.4) with R a fitted degree-11 polynomial of erfc(a) exp(a^2),
// and a^2 split into an exact head (a with 12 bits squared) and a small tail so that exp(-a^2)
// keeps its accuracy. The sign of x is put back last.
DOPT_VMATH_INLINE float ErfCore(float x) {
  const float a = AsFloat(AsBits(x) & 0x7fffffffu);
  const float z = a * a;
  float p = -6.024643662e-04f;
  p = p * z + 5.000903271e-03f;
  p = p * z - 2.677296288e-02f;
  p = p * z + 1.128203943e-01f;
  p = p * z - 3.761252463e-01f;
  p = p * z + 1.128379107e+00f;
  const float small = a * p;
  const float c = a > 3.9375f ? 3.9375f : a;
  const float c_hi = AsFloat(AsBits(c) & 0xfffff000u);
  const float c_lo = c - c_hi;
  const float sq_hi = c_hi * c_hi;         // exact: 12 significant bits squared
  const float sq_lo = c_lo * (c_hi + c);   // c^2 - sq_hi
  const float e = ExpCore(-sq_hi) * (1.f - sq_lo);
  const float s = c - 2.4f;
  float q = -4.779036544e-07f;
  q = q * s + 2.205206101e-06f;
  q = q * s - 5.426015377e-06f;
  q = q * s + 1.827539018e-05f;
  q = q * s - 7.290780195e-05f;
  q = q * s + 2.593988029e-04f;
  q = q * s - 8.741043275e-04f;
  q = q * s + 2.866481896e-03f;
  q = q * s - 9.065904655e-03f;
  q = q * s + 2.749437094e-02f;
  q = q * s - 7.958527654e-02f;
  q = q * s + 2.184987217e-01f;
  const float big = 1.f - e * q;
  return WithSignOf(a < 0.921875f ? small : big, x);
}

DOPT_VMATH_INLINE float GeluErfCore(float x) { return 0.5f * x * (1.f + ErfCore(x * 0.7071067811865476f)); }

DOPT_VMATH_INLINE float GeluTanhCore(float x) {
  const float k = 0.7978845608028654f;  // sqrt(2 / pi)
  return 0.5f * x * (1.f + TanhCore(k * (x + 0.044715f * x * x * x)));
}

}  // namespace

// One exported array function per core: every block, the zero-padded tail included, goes through
// the one compute loop (the same instructions, so the same bits, NaN signs included, wherever an
// element sits).
#define DOPT_VMATH_ARRAY(NAME, CORE)                                             \
  DOPT_KERNEL_CLONES_AVX512 void NAME(const float* x, float* y, int64_t n) {     \
    float in[kBlock], out[kBlock];                                               \
    for (int64_t i = 0; i < n; i += kBlock) {                                    \
      const int64_t m = n - i < kBlock ? n - i : kBlock;                         \
      const float* src = x + i;                                                  \
      if (m < kBlock) {                                                          \
        for (int j = 0; j < kBlock; ++j) in[j] = 0.f;                            \
        std::memcpy(in, x + i, (size_t)m * sizeof(float));                       \
        src = in;                                                                \
      }                                                                          \
      for (int j = 0; j < kBlock; ++j) out[j] = CORE(src[j]);                    \
      if (m == kBlock) {                                                         \
        for (int j = 0; j < kBlock; ++j) y[i + j] = out[j];                      \
      } else {                                                                   \
        std::memcpy(y + i, out, (size_t)m * sizeof(float));                      \
      }                                                                          \
    }                                                                            \
  }

DOPT_VMATH_ARRAY(ExpArray, ExpCore)
DOPT_VMATH_ARRAY(SigmoidArray, SigmoidCore)
DOPT_VMATH_ARRAY(SiluArray, SiluCore)
DOPT_VMATH_ARRAY(TanhArray, TanhCore)
DOPT_VMATH_ARRAY(ErfArray, ErfCore)
DOPT_VMATH_ARRAY(GeluErfArray, GeluErfCore)
DOPT_VMATH_ARRAY(GeluTanhArray, GeluTanhCore)

#undef DOPT_VMATH_ARRAY

namespace {

// The softmax lane: y = exp(x - m) as ExpArray gives it, and their sum in double over 16
// interleaved accumulators (k mod 16), added up in a fixed order at the end: the same sum on
// every ISA, vectorised instead of one long dependent chain.
DOPT_VMATH_INLINE double ExpShiftedSum(const float* x, float m, float* y, int64_t n) {
  // The 16 partial sums as two vectors of 8 doubles held in registers (lanes 0-7 and 8-15).
  typedef float F16 __attribute__((vector_size(64)));
  typedef double D8 __attribute__((vector_size(64)));
  D8 lo = {}, hi = {};
  auto add16 = [&](const float* o) {
    F16 v;
    std::memcpy(&v, o, sizeof v);
    lo += __builtin_convertvector(__builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7), D8);
    hi += __builtin_convertvector(__builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15), D8);
  };
  float out[kBlock];
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {  // whole blocks: no padding to stage
    for (int j = 0; j < kBlock; ++j) out[j] = ExpCore(x[i + j] - m);
    std::memcpy(y + i, out, sizeof out);
    for (int j = 0; j < kBlock; j += 16) add16(out + j);
  }
  if (i < n) {  // the rest, staged with zero padding (which adds nothing)
    float in[kBlock];
    const int64_t len = n - i;
    for (int j = 0; j < kBlock; ++j) in[j] = j < len ? x[i + j] - m : 0.f;
    for (int j = 0; j < kBlock; ++j) out[j] = ExpCore(in[j]);
    for (int j = (int)len; j < kBlock; ++j) out[j] = 0.f;
    for (int j = 0; j < len; j += 16) add16(out + j);  // chunks wholly past len would add zeros
    std::memcpy(y + i, out, (size_t)len * sizeof(float));
  }
  double sum = 0;
  for (int l = 0; l < 8; ++l) sum += lo[l];
  for (int l = 0; l < 8; ++l) sum += hi[l];
  return sum;
}

}  // namespace

DOPT_KERNEL_CLONES_AVX512 void SoftmaxArray(const float* x, float* y, int64_t n) {
  float mx = MaxArray(x, n);
  if (std::isinf(mx) && mx < 0) mx = 0;  // all -inf: avoid -inf - -inf
  const float inv = (float)(1.0 / ExpShiftedSum(x, mx, y, n));
  for (int64_t k = 0; k < n; ++k) y[k] *= inv;
}

namespace {

// 32 floats per step in kBytes-wide vectors (GCC's generic vectors, one function per ISA:
// kernels/clones.h, CpuSimdIsa), then the tail.
template <int kBytes>
inline __attribute__((always_inline)) float MaxImpl(const float* x, int64_t n) {
  typedef float V __attribute__((vector_size(kBytes)));
  constexpr int kLanes = kBytes / 4, kN = 32 / kLanes;
  const float lowest = -std::numeric_limits<float>::infinity();
  V acc[kN];
  for (int j = 0; j < kN; ++j) acc[j] = V{} + lowest;
  int64_t k = 0;
  for (; k + 32 <= n; k += 32)
    for (int j = 0; j < kN; ++j) {
      V v;
      std::memcpy(&v, x + k + j * kLanes, sizeof v);
      acc[j] = v > acc[j] ? v : acc[j];  // NaN in v: ignored
    }
  for (; k + kLanes <= n; k += kLanes) {  // then one vector at a time (49-wide windows: 32 + 16)
    V v;
    std::memcpy(&v, x + k, sizeof v);
    acc[0] = v > acc[0] ? v : acc[0];
  }
  float m = lowest;
  for (int j = 0; j < kN; ++j)
    for (int i = 0; i < kLanes; ++i) m = acc[j][i] > m ? acc[j][i] : m;
  for (; k < n; ++k) m = x[k] > m ? x[k] : m;
  return m;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("avx512f"))) float MaxAvx512(const float* x, int64_t n) { return MaxImpl<64>(x, n); }
__attribute__((target("avx2"))) float MaxAvx2(const float* x, int64_t n) { return MaxImpl<32>(x, n); }
#endif
float MaxSse2(const float* x, int64_t n) { return MaxImpl<16>(x, n); }

using MaxFn = float (*)(const float*, int64_t);
MaxFn PickMax() {
  switch (CpuSimdIsa()) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    case SimdIsa::kAvx512: return MaxAvx512;
    case SimdIsa::kAvx2: return MaxAvx2;
#endif
    default: return MaxSse2;
  }
}

}  // namespace

float MaxArray(const float* x, int64_t n) {
  static const MaxFn f = PickMax();
  return f(x, n);
}

}  // namespace kernels
}  // namespace dopt
