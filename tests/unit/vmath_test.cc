// kernels/vmath.h against the double-precision std:: functions: a strided sweep over every float
// bit pattern, special values, ulp-by-ulp ranges around the overflow / underflow thresholds and
// the kernels' own branch points, and the independence of each element's result from the array
// length and offset (what makes chunked parallel runs bit-identical).
#include "kernels/vmath.h"
#include "kernels/epilogue.h"

#include <gtest/gtest.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <algorithm>
#include <vector>

namespace dopt {
namespace kernels {
namespace {

using ArrayFn = void (*)(const float*, float*, int64_t);

struct Fn {
  const char* name;
  ArrayFn array;
  double (*ref)(double);
  double rel_tol;  // relative error allowed where the result is a normal float
  double abs_tol;  // absolute error allowed as well (0: relative only)
};

double RefSigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double RefGeluErf(double x) { return 0.5 * x * (1.0 + std::erf(x * 0.7071067811865476)); }
double RefGeluTanh(double x) { return 0.5 * x * (1.0 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))); }

const Fn kFns[] = {
    {"Exp", ExpArray, [](double x) { return std::exp(x); }, 3e-7, 0},
    {"Sigmoid", SigmoidArray, RefSigmoid, 3e-7, 0},
    {"Tanh", TanhArray, [](double x) { return std::tanh(x); }, 3e-7, 0},
    {"Erf", ErfArray, [](double x) { return std::erf(x); }, 3e-7, 1.5e-7},
    // Gelu is 0.5 x (1 + f): for negative x the 1 + f cancels (in std:: float arithmetic too),
    // so only an absolute bound scaled by |x| holds there; checked separately below.
};

std::string Hex(float x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g (0x%08x)", x, std::bit_cast<uint32_t>(x));
  return buf;
}

// Error check of one result; returns "" when within the bounds, else a description.
std::string CheckOne(const Fn& f, float x, float y, double* max_rel) {
  const double ref = f.ref((double)x);
  if (std::isnan(x)) return std::isnan(y) ? "" : "NaN input gave " + Hex(y);
  if (std::isnan(y)) return "NaN for " + Hex(x);
  const float rf = (float)ref;
  if (std::isinf(rf) || std::isinf(y)) {
    // Only right at the overflow threshold may the two round differently.
    if (rf == y) return "";
    if (std::fabs(ref) <= (double)FLT_MAX * (1 + f.rel_tol) && std::fabs(y) >= FLT_MAX) return "";
    return "overflow mismatch at " + Hex(x) + ": " + Hex(y) + " vs " + Hex(rf);
  }
  const double err = std::fabs((double)y - ref);
  // Subnormal results: one subnormal ulp more.
  const double bound = std::max(f.rel_tol * std::fabs(ref), f.abs_tol) + (std::fabs(ref) < FLT_MIN ? 0x1p-149 : 0.0);
  if (std::fabs(ref) >= FLT_MIN && ref != 0) *max_rel = std::max(*max_rel, err / std::fabs(ref));
  if (err > bound) return "error " + std::to_string(err / std::max(std::fabs(ref), 1e-300)) + " rel at " + Hex(x) +
                          ": " + Hex(y) + " vs " + std::to_string(ref);
  // Odd functions keep the sign of zero.
  if (x == 0 && (f.array == TanhArray || f.array == ErfArray) && std::signbit(y) != std::signbit(x))
    return "sign of zero lost at " + Hex(x);
  return "";
}

void CheckAll(const Fn& f, const std::vector<float>& xs, const char* what) {
  std::vector<float> ys(xs.size());
  f.array(xs.data(), ys.data(), (int64_t)xs.size());
  double max_rel = 0;
  int failures = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    std::string msg = CheckOne(f, xs[i], ys[i], &max_rel);
    if (!msg.empty() && ++failures <= 5) ADD_FAILURE() << f.name << " " << what << ": " << msg;
  }
  EXPECT_EQ(failures, 0) << f.name << " " << what;
  std::printf("  %-8s %-22s %zu values, max relative error %.3g\n", f.name, what, xs.size(), max_rel);
}

std::vector<float> StridedSweep() {
  std::vector<float> xs;
  for (uint64_t b = 0; b < (1ull << 32); b += 4093) xs.push_back(std::bit_cast<float>((uint32_t)b));
  return xs;
}

// ulp-by-ulp around t (count floats each side).
void AddAround(std::vector<float>& xs, float t, int count) {
  float lo = t, hi = t;
  for (int i = 0; i < count; ++i) {
    lo = std::nextafter(lo, -INFINITY);
    hi = std::nextafter(hi, INFINITY);
    xs.push_back(lo);
    xs.push_back(hi);
  }
  xs.push_back(t);
}

std::vector<float> SpecialValues() {
  std::vector<float> xs = {0.f, -0.f, INFINITY, -INFINITY, NAN, -NAN, FLT_MAX, -FLT_MAX, FLT_MIN, -FLT_MIN,
                           0x1p-149f, -0x1p-149f, 1.f, -1.f, 0.5f, -0.5f, 1e-20f, -1e-20f, 1e30f, -1e30f};
  // exp: overflow (88.7228), smallest normal result (-87.3365), smallest subnormal (-103.279),
  // rounding to 0 (-103.972); the kernels' clamps (88.8, -104) and branch points (tanh 0.625,
  // erf 0.921875 and 3.9375, 2 x for tanh's exp).
  for (float t : {88.72283935546875f, -87.33654022216797f, -103.27892f, -103.97208f, 88.8f, -104.f, 44.36142f,
                  0.625f, -0.625f, 0.921875f, -0.921875f, 3.9375f, -3.9375f, 9.f, -9.f, 0.f})
    AddAround(xs, t, 3000);
  // Dense ranges where the functions do their work.
  for (float x = -110.f; x <= 110.f; x += 1.f / 1024) xs.push_back(x);
  for (float x = -6.f; x <= 6.f; x += 1.f / 65536) xs.push_back(x);
  return xs;
}

TEST(VMath, StridedSweepOfAllFloats) {
  const std::vector<float> xs = StridedSweep();
  for (const Fn& f : kFns) CheckAll(f, xs, "strided sweep");
}

TEST(VMath, SpecialValuesAndThresholds) {
  const std::vector<float> xs = SpecialValues();
  for (const Fn& f : kFns) CheckAll(f, xs, "special/thresholds");
}

TEST(VMath, ExactSpecialValues) {
  auto one = [](ArrayFn fn, float x) {
    float y;
    fn(&x, &y, 1);
    return y;
  };
  EXPECT_EQ(one(ExpArray, 0.f), 1.f);
  EXPECT_EQ(one(ExpArray, -0.f), 1.f);
  EXPECT_EQ(one(ExpArray, -INFINITY), 0.f);
  EXPECT_EQ(one(ExpArray, INFINITY), INFINITY);
  EXPECT_EQ(one(ExpArray, 88.7229f), INFINITY);
  EXPECT_EQ(one(ExpArray, 1000.f), INFINITY);
  EXPECT_EQ(one(ExpArray, -1000.f), 0.f);
  EXPECT_EQ(one(ExpArray, -104.f), 0.f);
  EXPECT_GT(one(ExpArray, -103.f), 0.f);  // a subnormal
  EXPECT_LT(one(ExpArray, -103.f), FLT_MIN);
  EXPECT_EQ(one(SigmoidArray, -INFINITY), 0.f);
  EXPECT_EQ(one(SigmoidArray, INFINITY), 1.f);
  EXPECT_EQ(one(SigmoidArray, -1000.f), 0.f);
  EXPECT_EQ(one(SigmoidArray, 1000.f), 1.f);
  EXPECT_EQ(one(SigmoidArray, 0.f), 0.5f);
  EXPECT_EQ(one(TanhArray, INFINITY), 1.f);
  EXPECT_EQ(one(TanhArray, -INFINITY), -1.f);
  EXPECT_EQ(one(TanhArray, 20.f), 1.f);
  EXPECT_EQ(one(ErfArray, INFINITY), 1.f);
  EXPECT_EQ(one(ErfArray, -INFINITY), -1.f);
  EXPECT_EQ(one(ErfArray, 5.f), 1.f);
  for (ArrayFn fn : {TanhArray, ErfArray, GeluErfArray, GeluTanhArray}) {
    EXPECT_EQ(std::bit_cast<uint32_t>(one(fn, -0.f)), 0x80000000u);
    EXPECT_EQ(std::bit_cast<uint32_t>(one(fn, 0.f)), 0u);
  }
  for (ArrayFn fn : {ExpArray, SigmoidArray, SiluArray, TanhArray, ErfArray, GeluErfArray, GeluTanhArray}) {
    EXPECT_TRUE(std::isnan(one(fn, NAN)));
    EXPECT_TRUE(std::isnan(one(fn, -NAN)));
  }
  EXPECT_EQ(one(GeluErfArray, INFINITY), INFINITY);
  EXPECT_EQ(one(GeluTanhArray, INFINITY), INFINITY);
}

// Gelu against the double formula: relative where 1 + f does not cancel (x >= 0), absolute
// scaled by |x| elsewhere (1 + erf/tanh of a negative argument loses the low bits in float).
TEST(VMath, Gelu) {
  std::vector<float> xs;
  for (float x = -12.f; x <= 12.f; x += 1.f / 4096) xs.push_back(x);
  struct Case {
    ArrayFn fn;
    double (*ref)(double);
    const char* name;
  };
  for (const Case& c : {Case{GeluErfArray, RefGeluErf, "GeluErf"}, Case{GeluTanhArray, RefGeluTanh, "GeluTanh"}}) {
    const ArrayFn fn = c.fn;
    const auto ref = c.ref;
    const char* name = c.name;
    std::vector<float> ys(xs.size());
    fn(xs.data(), ys.data(), (int64_t)xs.size());
    int failures = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      const double r = ref((double)xs[i]);
      const double bound = xs[i] >= 0 ? 4e-7 * std::fabs(r) + 1e-30 : 3e-7 * std::fabs((double)xs[i]);
      if (std::fabs(ys[i] - r) > bound && ++failures <= 5)
        ADD_FAILURE() << name << " at " << Hex(xs[i]) << ": " << ys[i] << " vs " << r;
    }
    EXPECT_EQ(failures, 0) << name;
  }
}

// Every element's bits are the same whatever the array's length and the element's offset in it
// (the tail goes through the same block code), and nothing past n is written.
TEST(VMath, ResultDoesNotDependOnLengthOrOffset) {
  std::vector<float> xs;
  for (int i = 0; i < 300; ++i) xs.push_back(std::sin(i * 0.37f) * (float)(i % 40) - 3.f);
  xs[5] = NAN;
  xs[77] = INFINITY;
  xs[130] = -INFINITY;
  xs[200] = -0.f;
  for (ArrayFn fn : {ExpArray, SigmoidArray, SiluArray, TanhArray, ErfArray, GeluErfArray, GeluTanhArray}) {
    std::vector<float> whole(xs.size());
    fn(xs.data(), whole.data(), (int64_t)xs.size());
    std::vector<int64_t> sizes;
    for (int64_t n = 0; n <= 67; ++n) sizes.push_back(n);
    for (int64_t n : {127, 128, 129, 191, 200, 255}) sizes.push_back(n);
    for (int64_t n : sizes) {
      for (int64_t off = 0; off < 4 && off + n <= (int64_t)xs.size(); ++off) {
        std::vector<float> ys(n + 8, 12345.f);
        fn(xs.data() + off, ys.data(), n);
        for (int64_t i = 0; i < n; ++i)
          ASSERT_EQ(std::bit_cast<uint32_t>(ys[i]), std::bit_cast<uint32_t>(whole[off + i])) << "n " << n << " offset " << off << " i " << i;
        for (int64_t i = n; i < n + 8; ++i) ASSERT_EQ(ys[i], 12345.f) << "wrote past n " << n;
      }
    }
    // In place gives the same bits.
    std::vector<float> inplace = xs;
    fn(inplace.data(), inplace.data(), (int64_t)inplace.size());
    EXPECT_EQ(std::memcmp(inplace.data(), whole.data(), whole.size() * 4), 0);
  }
}

// SiluArray is Sigmoid then Mul: sigmoid(x) * x with SigmoidArray's value, bit for bit (NaN,
// infinities, zeros, subnormal results included).
TEST(VMath, SiluArrayIsSigmoidTimesX) {
  std::vector<float> xs;
  for (int i = 0; i < 4000; ++i) xs.push_back(std::sin(i * 0.91f) * (float)(i % 120));
  for (float v : {NAN, INFINITY, -INFINITY, 0.f, -0.f, -90.f, -104.f, -200.f, 88.f, 1e-30f}) xs.push_back(v);
  std::vector<float> sig(xs.size()), silu(xs.size());
  SigmoidArray(xs.data(), sig.data(), (int64_t)xs.size());
  SiluArray(xs.data(), silu.data(), (int64_t)xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    const float want = sig[i] * xs[i];
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(silu[i])) << xs[i];
    } else {
      EXPECT_EQ(std::bit_cast<uint32_t>(silu[i]), std::bit_cast<uint32_t>(want)) << xs[i];
    }
  }
  EXPECT_GT(silu[1], 0.5f);  // not degenerate
}

// The epilogue runs [Save, Sigmoid, MulSaved] as SiluArray; where a later step reads the saved
// value again it still holds the pre-activation value. Both give the separate steps' bits (under
// forced reference kernels too, where neither takes SiluArray).
TEST(VMath, EpilogueSiluKeepsTheSavedValueForLaterSteps) {
  std::vector<float> xs;
  for (int i = 0; i < 1500; ++i) xs.push_back(std::cos(i * 0.37f) * (float)(i % 50) - 2.f);
  auto step = [](EpilogueStep::Op op) {
    EpilogueStep s;
    s.op = op;
    return s;
  };
  using S = EpilogueStep;
  // The Sigmoid step alone (SigmoidArray, or libm's under forced reference kernels).
  std::vector<float> sig = xs;
  ApplyEpilogue({step(S::kSigmoid)}, sig.data(), (int64_t)sig.size(), 0);
  for (bool add_saved : {false, true}) {
    std::vector<EpilogueStep> steps = {step(S::kSave), step(S::kSigmoid), step(S::kMulSaved)};
    if (add_saved) steps.push_back(step(S::kAddSaved));
    std::vector<float> y = xs;
    ApplyEpilogue(steps, y.data(), (int64_t)y.size(), 0);
    for (size_t i = 0; i < xs.size(); ++i) {
      float want = sig[i] * xs[i];
      if (add_saved) want = want + xs[i];
      ASSERT_EQ(std::bit_cast<uint32_t>(y[i]), std::bit_cast<uint32_t>(want)) << i << (add_saved ? " +saved" : "");
    }
  }
}

// MaxArray: the sequential loop's value over lengths around its 32-float steps, with NaNs
// (ignored), -inf and +inf, at every offset of the first 32.
TEST(VMath, MaxArrayMatchesTheSequentialLoop) {
  uint32_t s = 5;
  auto next = [&] { return s = s * 1664525u + 1013904223u; };
  for (int64_t n : {0, 1, 5, 31, 32, 33, 47, 48, 49, 64, 100, 1000})
    for (int64_t off : {0, 1, 7, 31})
      for (int variant = 0; variant < 4; ++variant) {
        std::vector<float> x((size_t)(n + off));
        for (float& v : x) v = (float)((int32_t)next() >> 8) / 65536.f;
        if (variant == 1 && n > 0) x[(size_t)(off + (int64_t)(next() % (uint32_t)n))] = NAN;
        if (variant == 2 && n > 0) x[(size_t)(off + (int64_t)(next() % (uint32_t)n))] = INFINITY;
        if (variant == 3)
          for (int64_t k = 0; k < n; ++k) x[(size_t)(off + k)] = k % 3 == 0 ? NAN : -INFINITY;
        float want = -INFINITY;
        for (int64_t k = 0; k < n; ++k) want = x[(size_t)(off + k)] > want ? x[(size_t)(off + k)] : want;
        EXPECT_EQ(MaxArray(x.data() + off, n), want) << "n=" << n << " off=" << off << " variant=" << variant;
      }
}

// SoftmaxArray, bit for bit: exp(x - max) with ExpArray's bits, the double sum over 16
// interleaved partials (k mod 16, then the 16 in order), one float reciprocal multiplied in; at
// lengths around the 16-wide and 64-wide blocks, at an offset and in place; its lanes sum to 1.
TEST(VMath, SoftmaxArrayIsItsThreeSteps) {
  uint32_t s = 21;
  auto next = [&] { return s = s * 1664525u + 1013904223u; };
  for (int64_t n : {1, 2, 15, 16, 17, 49, 63, 64, 65, 196, 362, 1000})
    for (int64_t off : {0, 3}) {
      std::vector<float> x((size_t)(n + off)), want((size_t)n), got((size_t)n);
      for (float& v : x) v = (float)((int32_t)next() >> 8) / 131072.f;
      const float* xs = x.data() + off;
      const float m = MaxArray(xs, n);
      for (int64_t k = 0; k < n; ++k) want[(size_t)k] = xs[k] - m;
      ExpArray(want.data(), want.data(), n);
      double part[16] = {}, sum = 0;
      for (int64_t k = 0; k < n; ++k) part[k % 16] += (double)want[(size_t)k];
      for (double p : part) sum += p;
      const float inv = (float)(1.0 / sum);
      for (float& v : want) v *= inv;
      SoftmaxArray(xs, got.data(), n);
      EXPECT_EQ(0, std::memcmp(got.data(), want.data(), (size_t)n * sizeof(float))) << "n=" << n << " off=" << off;
      std::vector<float> inplace(x.begin() + off, x.end());
      SoftmaxArray(inplace.data(), inplace.data(), n);
      EXPECT_EQ(0, std::memcmp(inplace.data(), want.data(), (size_t)n * sizeof(float))) << "n=" << n;
      double total = 0;
      for (float v : got) total += v;
      EXPECT_NEAR(total, 1.0, 1e-5) << "n=" << n;
    }
}

}  // namespace
}  // namespace kernels
}  // namespace dopt
