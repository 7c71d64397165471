#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "calib/histogram.h"
#include "calib/range_methods.h"

namespace dopt {
namespace {

TEST(Histogram, GrowsByDoublingAndKeepsCountsExact) {
  Histogram h(16);
  std::vector<float> a = {0.1f, -0.2f, 0.3f};
  h.Add(a.data(), 3);
  EXPECT_DOUBLE_EQ(h.range(), 0.5);  // smallest power of two >= 0.3
  std::vector<float> b = {3.f, -7.f, NAN};
  h.Add(b.data(), 3);
  EXPECT_DOUBLE_EQ(h.range(), 8.0);
  EXPECT_EQ(h.total(), 5u);
  uint64_t sum = 0;
  for (auto c : h.counts()) sum += c;
  EXPECT_EQ(sum, 5u);
  EXPECT_FLOAT_EQ(h.min(), -7.f);
  EXPECT_FLOAT_EQ(h.max(), 3.f);
  // -7 lands in bin floor((-7 + 8) / 1) = 1; 3 in bin floor(11) = 11.
  EXPECT_EQ(h.counts()[1], 1u);
  EXPECT_EQ(h.counts()[11], 1u);
  // 0.1, 0.3 and -0.2 all fall in the two middle bins after growth.
  EXPECT_EQ(h.counts()[7] + h.counts()[8], 3u);
}

// The binning by definition (bins / 2 + floor(v * bins / 2R), clamped; NaN and infinities not
// binned), against the blocked, vectorized Add: the same counts on awkward data.
// Every instruction-set version (SSE2, AVX2, AVX-512, as far as this CPU has them); `clean`
// data (no NaN or infinity, nothing beyond R) takes the one-pass route of the wide versions,
// the rest their two passes.
TEST(Histogram, AddMatchesTheDefinition) {
  for (int isa = 0; isa <= 2; ++isa) {
  for (bool clean : {false, true}) {
  SetHistogramIsaForTesting(isa);
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0, 3);
  for (int64_t n : {1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 1023, 1024, 1025, 4099, 70001}) {
    std::vector<float> x(n);
    for (int64_t i = 0; i < n; ++i) {
      switch (i % 11) {
        case 0: x[i] = 0.f; break;                   // runs of one bin (after a ReLU)
        case 1: x[i] = i % 3 || clean ? 0.f : NAN; break;
        case 2: x[i] = (i % 5) ? 0.f : clean ? -0.f : (i % 2 ? INFINITY : -INFINITY); break;
        case 3: x[i] = i % 2 ? 1e-42f : -1e-42f; break;  // denormals
        case 7: x[i] = i % 2 ? -1e-30f : -3e-9f; break;    // tiny negatives: below zero's bin, not in it
        case 4: x[i] = 8.f; break;                   // the range's edge: clamps to the last bin
        case 5: x[i] = -8.f; break;
        case 6: x[i] = 0.25f * (float)(i % 7); break;  // bin edges
        default: x[i] = std::max(-8.f, std::min(8.f, nd(rng)));
      }
    }
    Histogram h(2048);
    float seed = 8.f;  // fixes R = 8 first (the data never exceeds it)
    h.Add(&seed, 1);
    h.Add(x.data(), n);
    std::vector<uint64_t> want(2048, 0);
    want[(int)std::floor((8.0 + 8.0) * 2048 / 16.0) > 2047 ? 2047 : 0] += 1;  // the seed
    uint64_t valid = 1;
    for (float v : x) {
      if (std::isnan(v)) continue;
      ++valid;
      if (!std::isfinite(v)) continue;
      int b = 1024 + (int)std::floor(v * (2048 / 16.0));
      ++want[std::min(std::max(b, 0), 2047)];
    }
    float lo = 8.f, hi = 8.f;  // the seed
    for (float v : x) {
      if (std::isnan(v)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    EXPECT_EQ(h.range(), 8.0) << n << " isa " << isa << " clean " << clean;
    EXPECT_EQ(h.counts(), want) << n << " isa " << isa << " clean " << clean;
    EXPECT_EQ(h.total(), valid) << n << " isa " << isa << " clean " << clean;
    EXPECT_EQ(h.min(), lo) << n << " isa " << isa << " clean " << clean;
    EXPECT_EQ(h.max(), hi) << n << " isa " << isa << " clean " << clean;
  }
  }
  }
  SetHistogramIsaForTesting(2);
}

// The one-pass route at a large R (scale 1/4: a negative denormal's product rounds to -0 and
// still belongs below zero's bin), and at R = 2^128, which no float holds (a finite value above
// 2^127 grew it there): infinities in a later block are still left out of the bins.
TEST(Histogram, OnePassAtLargeRanges) {
  for (int isa = 0; isa <= 2; ++isa) {
    SetHistogramIsaForTesting(isa);
    Histogram h(2048);
    const float seed = 4096.f;  // R = 4096: bins of width 4
    h.Add(&seed, 1);
    std::vector<float> x(40);
    for (size_t i = 0; i < x.size(); ++i) x[i] = (i % 4 == 0) ? -1.4e-45f : (i % 4 == 1 ? 1.4e-45f : -3.f * (float)i);
    h.Add(x.data(), (int64_t)x.size());
    EXPECT_EQ(h.range(), 4096.0) << isa;
    EXPECT_EQ(h.counts()[1023], 10u) << isa;  // the negative denormals ([-4, 0); the rest are <= -6)
    EXPECT_EQ(h.counts()[1024], 10u) << isa;  // the positive ones
    EXPECT_EQ(h.total(), 41u) << isa;

    Histogram big(2048);
    const float huge = 3e38f;
    big.Add(&huge, 1);
    EXPECT_EQ(big.range(), std::ldexp(1.0, 128)) << isa;
    std::vector<float> y(48, 1e30f);
    y[5] = INFINITY;
    y[20] = -INFINITY;
    y[33] = -2e38f;
    big.Add(y.data(), (int64_t)y.size());
    uint64_t binned = 0;
    for (uint64_t c : big.counts()) binned += c;
    EXPECT_EQ(binned, 47u) << isa;  // the seed and y but the infinities
    EXPECT_EQ(big.total(), 49u) << isa;
    EXPECT_EQ(big.min(), -INFINITY) << isa;
    EXPECT_EQ(big.max(), INFINITY) << isa;
    EXPECT_EQ(big.counts()[1024 + (int)(1e30 * 2048 / std::ldexp(2.0, 128))], 45u) << isa;
  }
  SetHistogramIsaForTesting(2);
}

// Add counts into 16-bit tables, flushed into the 64-bit counts before one could wrap: long runs
// of one bin (a constant tensor; a non-zero value now and then among zeros, which all land in
// one table) keep every count.
TEST(Histogram, LongRunsOfOneBinKeepTheirCounts) {
  for (int isa = 0; isa <= 2; ++isa) {
    SetHistogramIsaForTesting(isa);
    for (int every : {1, 3, 1000}) {
      const int64_t n = every == 1 ? 300000 : 70000 * (int64_t)every;
      std::vector<float> x(n, 0.f);
      for (int64_t i = 0; i < n; i += every) x[i] = 1.5f;
      Histogram h(2048);
      h.Add(x.data(), n);
      const int64_t ones = (n + every - 1) / every;
      EXPECT_EQ(h.range(), 2.0) << isa << " " << every;
      EXPECT_EQ(h.counts()[1024 + (int)(1.5 * 2048 / 4)], (uint64_t)ones) << isa << " " << every;
      EXPECT_EQ(h.counts()[1024], (uint64_t)(n - ones)) << isa << " " << every;
      EXPECT_EQ(h.total(), (uint64_t)n) << isa << " " << every;
    }
  }
  SetHistogramIsaForTesting(2);
}

// R grows in the middle of one Add (a block at a time): the same counts as growing once, i.e.
// as binning every value at the final R by the definition.
TEST(Histogram, GrowthWithinOneAddMatchesTheDefinition) {
  for (int isa = 0; isa <= 2; ++isa) {
    SetHistogramIsaForTesting(isa);
    std::mt19937 rng(3);
    std::normal_distribution<float> nd(0, 1);
    std::vector<float> x(20000);
    for (size_t i = 0; i < x.size(); ++i) {
      // The magnitude grows along the tensor (R doubles many times), with tiny values of both
      // signs throughout, and values exactly on bin edges of the smaller ranges.
      const float scale = std::ldexp(1.f, (int)(i / 1500) - 6);
      x[i] = i % 13 == 0 ? -1e-20f : (i % 17 == 0 ? scale * 0.5f : nd(rng) * scale);
    }
    Histogram h(2048);
    h.Add(x.data(), (int64_t)x.size());
    float amax = 0;
    for (float v : x) amax = std::max(amax, std::fabs(v));
    const double r = std::exp2(std::ceil(std::log2((double)amax)));
    EXPECT_EQ(h.range(), r) << "isa " << isa;
    std::vector<uint64_t> want(2048, 0);
    for (float v : x) {
      int b = 1024 + (int)std::floor(v * (1024 / r));
      ++want[std::min(std::max(b, 0), 2047)];
    }
    EXPECT_EQ(h.counts(), want) << "isa " << isa;
    EXPECT_EQ(h.total(), x.size());
  }
  SetHistogramIsaForTesting(2);
}

// A tiny negative value whose v * bins / 2R underflows to -0 in float still belongs below zero.
TEST(Histogram, UnderflowingNegativesStayBelowZero) {
  for (int isa = 0; isa <= 2; ++isa) {
    SetHistogramIsaForTesting(isa);
    Histogram h(2048);
    std::vector<float> x(40, -1.4e-45f);  // the smallest denormal; R = 2^20 makes the product underflow
    x[0] = 1048576.f;
    x[1] = 1.4e-45f;
    h.Add(x.data(), (int64_t)x.size());
    EXPECT_EQ(h.range(), 1048576.0);
    EXPECT_EQ(h.counts()[1023], 38u) << "isa " << isa;
    EXPECT_EQ(h.counts()[1024], 1u) << "isa " << isa;
    EXPECT_EQ(h.counts()[2047], 1u) << "isa " << isa;
  }
  SetHistogramIsaForTesting(2);
}

// Values at exactly +R sit clamped in the last bin; when R later doubles (in the same Add or a
// later one, or in a merge) they move to where +R falls at the new range, as the definition says.
// All-negative data: every count lands (the per-thread tables are left clean for the next one).
TEST(Histogram, ExactRangeValuesAndNegativeDataFollowTheDefinition) {
  for (int isa = 0; isa <= 2; ++isa) {
    SetHistogramIsaForTesting(isa);
    std::vector<float> x(3000, 0.25f);
    x[5] = 1.f;        // R = 1 for the first block, 1.0 clamped into bin 2047
    x[2500] = 3.f;     // R = 4 in the third block: 1.0 belongs in bin 1024 + 256
    x[2501] = -4.f;    // -R: bin 0, no clamp needed
    Histogram h(2048);
    h.Add(x.data(), (int64_t)x.size());
    ASSERT_EQ(h.range(), 4.0);
    EXPECT_EQ(h.counts()[1280], 1u) << "isa " << isa;
    EXPECT_EQ(h.counts()[1024 + 64], 2997u) << "isa " << isa;  // 0.25
    EXPECT_EQ(h.counts()[1024 + 768], 1u) << "isa " << isa;    // 3
    EXPECT_EQ(h.counts()[0], 1u) << "isa " << isa;
    Histogram a(2048), b(2048);  // the same when 1.0 and the growth come in different Adds
    a.Add(x.data(), 10);
    b.Add(x.data() + 10, 2990);
    a.Merge(b);
    EXPECT_EQ(a.counts(), h.counts()) << "isa " << isa;
    std::vector<float> neg = {-0.5f, -0.25f};
    Histogram n1(2048);
    n1.Add(neg.data(), 2);
    uint64_t sum = 0;
    for (uint64_t v : n1.counts()) sum += v;
    EXPECT_EQ(sum, 2u) << "isa " << isa;
    Histogram n2(2048);
    std::vector<float> pos = {0.f, 0.1f, 0.2f};
    n2.Add(pos.data(), 3);
    sum = 0;
    for (uint64_t v : n2.counts()) sum += v;
    EXPECT_EQ(sum, 3u) << "isa " << isa;
  }
  SetHistogramIsaForTesting(2);
}

// Without bins (the minmax method): the same extremes and count as with them, NaN skipped.
TEST(Histogram, ExtentOnlyKeepsMinMaxAndCount) {
  std::mt19937 rng(9);
  std::normal_distribution<float> nd(0, 5);
  Histogram binned(2048), extent(0);
  for (int64_t n : {0, 1, 7, 1000, 300000}) {
    std::vector<float> x((size_t)n);
    for (auto& v : x) v = nd(rng);
    if (n > 5) x[3] = NAN, x[4] = -INFINITY;
    binned.Add(x.data(), n);
    extent.Add(x.data(), n);
    EXPECT_EQ(extent.min(), binned.min());
    EXPECT_EQ(extent.max(), binned.max());
    EXPECT_EQ(extent.total(), binned.total());
    EXPECT_EQ(extent.num_bins(), 0);
  }
  Histogram nan_only(0);
  std::vector<float> nans(5, NAN);
  nan_only.Add(nans.data(), 5);
  EXPECT_TRUE(nan_only.empty());
}

TEST(Histogram, MergeEqualsAddingEverything) {
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0, 2);
  std::vector<float> x(5000);
  for (auto& v : x) v = nd(rng);
  Histogram all, p1, p2;
  all.Add(x.data(), 5000);
  p1.Add(x.data(), 1000);
  p2.Add(x.data() + 1000, 4000);
  p1.Merge(p2);
  EXPECT_EQ(p1.counts(), all.counts());
  EXPECT_EQ(p1.range(), all.range());
  EXPECT_EQ(p1.min(), all.min());
}

TEST(QuantParams, AsymmetricAndSymmetricByHand) {
  QuantParams q = ChooseQuantParams({-1.f, 3.f}, 8, false);
  EXPECT_FLOAT_EQ(q.scale, 4.f / 255.f);
  EXPECT_EQ(q.zero_point, -128 + 64);  // round(-128 + 1 / (4/255)) = round(-64.25) = -64
  QuantParams s = ChooseQuantParams({-1.f, 3.f}, 8, true);
  EXPECT_FLOAT_EQ(s.scale, 3.f / 127.f);
  EXPECT_EQ(s.zero_point, 0);
  QuantParams z = ChooseQuantParams({0.f, 0.f}, 8, false);
  EXPECT_FLOAT_EQ(z.scale, 1.f);
  QuantParams pos = ChooseQuantParams({2.f, 6.f}, 8, false);  // range is widened to include 0
  EXPECT_FLOAT_EQ(pos.scale, 6.f / 255.f);
  EXPECT_EQ(pos.zero_point, -128);
}

Histogram Gaussian(int n, float outlier) {
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0, 1);
  std::vector<float> x(n);
  for (auto& v : x) v = nd(rng);
  x[0] = outlier;
  Histogram h;
  h.Add(x.data(), n);
  return h;
}

TEST(RangeMethods, MinMaxIsExact) {
  Histogram h = Gaussian(10000, 40.f);
  FloatRange r = ComputeRange(h, CalibMethod::kMinMax, {});
  EXPECT_FLOAT_EQ(r.hi, 40.f);
  EXPECT_FLOAT_EQ(r.lo, h.min());
}

TEST(RangeMethods, ClippingMethodsIgnoreASingleOutlier) {
  Histogram h = Gaussian(200000, 40.f);
  for (CalibMethod m : {CalibMethod::kKL, CalibMethod::kPercentile, CalibMethod::kMSE}) {
    FloatRange r = ComputeRange(h, m, {});
    // MSE trades the one clipped outlier against rounding noise on 200k values, so it clips
    // less than the distribution-shape methods (the optimum is t = 30.9 here: (40 - t)^2 against
    // 200000 * ((t + 4.5) / 255)^2 / 12), but still well below the outlier.
    EXPECT_LT(r.hi, m == CalibMethod::kMSE ? 35.f : 10.f) << CalibMethodName(m);
    EXPECT_GT(r.hi, 2.f) << CalibMethodName(m);
    EXPECT_LT(r.lo, -2.f) << CalibMethodName(m);
    EXPECT_LE(r.lo, 0.f);
  }
}

TEST(RangeMethods, PercentileMatchesSortedQuantile) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> ud(0, 10);
  std::vector<float> x(100000);
  for (auto& v : x) v = ud(rng);
  Histogram h;
  h.Add(x.data(), (int64_t)x.size());
  RangeOptions o;
  o.percentile = 99.0;
  FloatRange r = ComputeRange(h, CalibMethod::kPercentile, o);
  std::sort(x.begin(), x.end());
  EXPECT_NEAR(r.hi, x[99000], 0.05);
  EXPECT_FLOAT_EQ(r.lo, 0.f);  // data are non-negative: the range still includes 0
}

TEST(RangeMethods, MSENeverWorseThanMinMax) {
  Histogram h = Gaussian(50000, 25.f);
  FloatRange mm = ComputeRange(h, CalibMethod::kMinMax, {});
  FloatRange ms = ComputeRange(h, CalibMethod::kMSE, {});
  EXPECT_LE(HistogramQuantError(h, ChooseQuantParams(ms, 8, false)),
            HistogramQuantError(h, ChooseQuantParams(mm, 8, false)));
}

TEST(RangeMethods, ParseNames) {
  EXPECT_TRUE(ParseCalibMethod("kl").ok());
  EXPECT_TRUE(ParseCalibMethod("mse").ok());
  auto bad = ParseCalibMethod("magic");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("minmax"), std::string::npos);
}

}  // namespace
}  // namespace dopt

#include "calib/observers.h"
#include "ops/shape_inference.h"

namespace dopt {
namespace {

// Several tensors in a row, as calibration adds them: the first sets R, later ones fit inside it,
// grow it (in one part only, or in all), or hold values at exactly +R; the threaded parts start
// at the histogram's R (the first part adds into the histogram itself, so when only it grows,
// the others merge up into it).
TEST(Histogram, ThreadedAddEqualsSerialAdd) {
  std::mt19937 rng(11);
  Histogram serial, threaded;
  ThreadPool pool(3);
  for (float scale : {3.f, 1.f, 40.f, 0.5f, 1000.f, 0.25f}) {
    std::normal_distribution<float> nd(1, scale);
    std::vector<float> x(300001);
    for (auto& v : x) v = nd(rng);
    if (scale == 1.f) x[7] = (float)serial.range();         // exactly +R
    if (scale == 0.5f) x[299000] = 9000.f;                     // only the last part grows
    if (scale == 0.25f) x[3] = 1e6f;                           // only the first part grows
    serial.Add(x.data(), (int64_t)x.size());
    threaded.Add(x.data(), (int64_t)x.size(), &pool);
    EXPECT_EQ(serial.counts(), threaded.counts()) << scale;
    EXPECT_EQ(serial.range(), threaded.range()) << scale;
    EXPECT_EQ(serial.min(), threaded.min()) << scale;
    EXPECT_EQ(serial.max(), threaded.max()) << scale;
    EXPECT_EQ(serial.total(), threaded.total()) << scale;
  }
}

TEST(HistogramObserver, WatchesOnlyChosenValuesAcrossRuns) {
  Graph g;
  Value x;
  x.name = "x";
  x.dtype = DType::kFloat32;
  x.rank_known = true;
  x.shape = {4};
  int xid = g.AddValue(x);
  g.inputs.push_back(xid);
  Value y;
  y.name = "y";
  int yid = g.AddValue(y);
  Node relu;
  relu.name = "relu";
  relu.op_type = "Relu";
  relu.inputs = {xid};
  relu.outputs = {yid};
  g.AddNode(relu);
  g.outputs.push_back(yid);
  ASSERT_TRUE(PrepareGraph(g).ok());
  auto ex = Executor::Create(g, {1});
  ASSERT_TRUE(ex.ok());
  HistogramObserver obs({yid}, 2048, nullptr);
  std::map<std::string, Tensor> outs;
  ASSERT_TRUE((*ex)->Run({{"x", Tensor::FromFloats({4}, {-3, 1, 2, -1})}}, &outs, &obs).ok());
  ASSERT_TRUE((*ex)->Run({{"x", Tensor::FromFloats({4}, {5, -1, 0, 0})}}, &outs, &obs).ok());
  EXPECT_EQ(obs.Find(xid), nullptr);
  const Histogram* h = obs.Find(yid);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->total(), 8u);
  EXPECT_FLOAT_EQ(h->min(), 0.f);
  EXPECT_FLOAT_EQ(h->max(), 5.f);
}

}  // namespace
}  // namespace dopt
