// The Conv kernels as the Conv op runs them (kernels::ConvForwardOneDnn, falling back to the
// im2col + SGEMM kernels::ConvForward when it declines) against a direct double-precision loop,
// over a sweep of shapes: 3x3, 5x5, 1x3, strided, dilated, depthwise, grouped, pointwise,
// channel counts that are not multiples of 8 or 16, batch > 1, with and without bias, and every
// fused activation. Each case also runs under each source/destination layout the oneDNN path can
// be asked for (its preferred one, nchw, nhwc, nChw8c, nChw16c), so the reorders and channel
// padding of every layout are exercised whatever this CPU prefers. Results must be
// bit-identical for 1, 2 and 3 threads. Nothing here asserts which kernel runs: oneDNN may
// decline any case on some CPU (or all of them under DOPT_REFERENCE_KERNELS=1) and the
// tests pass either way; ConvOneDnn.LogsWhichPathRuns only prints it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "check_op.h"
#include "common/kernel_options.h"
#include "kernels/conv.h"
#include "kernels/conv_onednn.h"

namespace dopt {
namespace {

using kernels::Activation;
using kernels::ConvGeom;
using kernels::OneDnnLayout;

struct Shape2 {
  int64_t N, C, H, W, M, KH, KW, S, P, D, G;
};

std::string Name(const Shape2& s) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "N=%lld C=%lld HxW=%lldx%lld M=%lld k=%lldx%lld s=%lld p=%lld d=%lld G=%lld",
                (long long)s.N, (long long)s.C, (long long)s.H, (long long)s.W, (long long)s.M, (long long)s.KH,
                (long long)s.KW, (long long)s.S, (long long)s.P, (long long)s.D, (long long)s.G);
  return buf;
}

ConvGeom Geom(const Shape2& s) {
  ConvGeom g;
  g.N = s.N;
  g.C = s.C;
  g.M = s.M;
  g.G = s.G;
  const int64_t oh = (s.H + 2 * s.P - s.D * (s.KH - 1) - 1) / s.S + 1;
  const int64_t ow = (s.W + 2 * s.P - s.D * (s.KW - 1) - 1) / s.S + 1;
  g.SetSpatial({s.H, s.W}, {oh, ow}, {s.KH, s.KW}, {s.S, s.S}, {s.D, s.D}, {s.P, s.P});
  return g;
}

std::vector<float> Random(size_t n, unsigned seed) { return optest::RandomFloats(n, seed); }

float Act(float v, const Activation& a) {
  switch (a.kind) {
    case Activation::kNone: return v;
    case Activation::kRelu: return v > 0.f ? v : 0.f;
    case Activation::kLeakyRelu: return v < 0.f ? a.alpha * v : v;
    case Activation::kClip: return std::min(std::max(v, a.lo), a.hi);
  }
  return v;
}

// Direct loops in double. `bound` gets, per output, |bias| + sum |w * x| (the scale of the
// float rounding error any summation order can make).
std::vector<float> Reference(const Shape2& s, const ConvGeom& g, const std::vector<float>& x,
                             const std::vector<float>& w, const float* bias, const Activation& act,
                             std::vector<double>* bound) {
  const int64_t Cg = s.C / s.G, Mg = s.M / s.G, OH = g.out[1], OW = g.out[2];
  std::vector<float> y;
  bound->clear();
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t m = 0; m < s.M; ++m)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double acc = bias ? bias[m] : 0.0, mag = bias ? std::fabs(bias[m]) : 0.0;
          const int64_t gi = m / Mg;
          for (int64_t cc = 0; cc < Cg; ++cc)
            for (int64_t kh = 0; kh < s.KH; ++kh)
              for (int64_t kw = 0; kw < s.KW; ++kw) {
                const int64_t ih = oh * s.S - s.P + kh * s.D, iw = ow * s.S - s.P + kw * s.D;
                if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
                const double t = (double)x[(size_t)(((n * s.C + gi * Cg + cc) * s.H + ih) * s.W + iw)] *
                                 w[(size_t)(((m * Cg + cc) * s.KH + kh) * s.KW + kw)];
                acc += t;
                mag += std::fabs(t);
              }
          y.push_back(Act((float)acc, act));
          bound->push_back(mag);
        }
  return y;
}

// What the Conv op does (src/ops/conv.cc): oneDNN when it accepts, else im2col + SGEMM.
bool RunConv(const ConvGeom& g, const std::vector<float>& x, const std::vector<float>& w, const float* bias,
             std::vector<float>* y, ThreadPool* pool, const Activation& act) {
  if (kernels::ConvForwardOneDnn(g, x.data(), w.data(), bias, y->data(), pool, act)) return true;
  kernels::ConvForward(g, x.data(), w.data(), bias, y->data(), pool, act);
  return false;
}

// Float sums of up to a few hundred terms: within 1e-5 of the magnitude of their terms.
void ExpectClose(const std::vector<float>& got, const std::vector<float>& ref, const std::vector<double>& bound,
                 const std::string& what) {
  ASSERT_EQ(got.size(), ref.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_FALSE(std::isnan(got[i])) << what << " i=" << i;
    ASSERT_NEAR(got[i], ref[i], 1e-5 * (1.0 + bound[i])) << what << " i=" << i;
  }
}

const Shape2 kShapes[] = {
    // N, C, H, W, M, KH, KW, S, P, D, G
    {1, 16, 23, 19, 24, 3, 3, 1, 1, 1, 1},    // dense 3x3
    {1, 3, 31, 29, 16, 3, 3, 2, 0, 1, 1},     // 3 input channels, stride 2, ONNX-floored end pad
    {2, 8, 15, 17, 32, 3, 3, 1, 2, 2, 1},     // batch 2, dilation 2
    {1, 32, 20, 21, 32, 3, 3, 2, 1, 1, 32},   // depthwise stride 2
    {1, 16, 9, 9, 16, 3, 3, 1, 1, 1, 16},     // depthwise
    {1, 5, 11, 13, 17, 3, 3, 1, 1, 1, 1},     // 5 -> 17 channels
    {1, 17, 12, 10, 33, 3, 3, 2, 1, 1, 1},    // 17 -> 33, stride 2
    {2, 33, 9, 8, 5, 5, 5, 1, 2, 1, 1},       // 33 -> 5, 5x5, batch 2
    {1, 3, 10, 9, 3, 3, 3, 1, 1, 1, 1},       // 3 -> 3
    {1, 33, 10, 11, 33, 3, 3, 1, 1, 1, 33},   // depthwise, 33 channels
    {3, 17, 7, 9, 17, 3, 3, 2, 1, 2, 17},     // depthwise, batch 3, stride 2, dilation 2
    {1, 5, 6, 7, 5, 3, 3, 1, 0, 1, 5},        // depthwise, 5 channels, no padding
    {1, 12, 10, 10, 18, 3, 3, 1, 1, 1, 3},    // grouped (3 groups of 4 -> 6)
    {2, 16, 8, 8, 32, 3, 3, 2, 1, 1, 2},      // grouped, batch 2, stride 2
    {1, 8, 6, 6, 12, 1, 1, 1, 0, 1, 1},       // pointwise
    {1, 3, 8, 8, 3, 1, 1, 2, 0, 1, 1},        // 1x1 stride 2
    {1, 6, 9, 11, 10, 1, 3, 1, 1, 1, 1},      // 1x3 kernel
    {1, 64, 14, 14, 64, 3, 3, 1, 1, 1, 1},    // several blocks, K = 576
    {1, 48, 13, 13, 40, 3, 3, 1, 1, 1, 1},    // a padded last block (40 = 32 + 8)
    {2, 24, 5, 5, 24, 3, 3, 1, 1, 1, 24},     // depthwise, batch 2, 24 channels
};

const OneDnnLayout kLayouts[] = {OneDnnLayout::kPreferred, OneDnnLayout::kNchw, OneDnnLayout::kNhwc,
                                 OneDnnLayout::kNChw8c, OneDnnLayout::kNChw16c};
const char* kLayoutNames[] = {"preferred", "nchw", "nhwc", "nChw8c", "nChw16c"};

std::vector<Activation> Activations() {
  std::vector<Activation> acts(5);
  acts[1].kind = Activation::kRelu;
  acts[2].kind = Activation::kLeakyRelu;
  acts[2].alpha = 0.1f;
  acts[3].kind = Activation::kClip;
  acts[3].lo = -0.5f;
  acts[3].hi = std::numeric_limits<float>::infinity();
  acts[4].kind = Activation::kClip;
  acts[4].lo = 0.f;
  acts[4].hi = 0.75f;
  return acts;
}

struct LayoutReset {
  ~LayoutReset() { kernels::SetConvOneDnnLayoutForTesting(OneDnnLayout::kPreferred); }
};

TEST(ConvOneDnn, MatchesReferenceInEveryLayoutAndIgnoresThreadCount) {
  LayoutReset reset;
  ThreadPool p2(2), p3(3);
  const std::vector<Activation> acts = Activations();
  int accepted[5] = {0, 0, 0, 0, 0}, runs = 0;
  unsigned seed = 1;
  for (const Shape2& s : kShapes) {
    const ConvGeom g = Geom(s);
    const auto x = Random((size_t)(s.N * s.C * s.H * s.W), seed);
    const auto w = Random((size_t)(s.M * (s.C / s.G) * s.KH * s.KW), seed + 1);
    const auto b = Random((size_t)s.M, seed + 2);
    seed += 3;
    const size_t ny = (size_t)(s.N * s.M * g.OutSize());
    for (const Activation& act : acts) {
      for (const float* bias : {b.data(), (const float*)nullptr}) {
        std::vector<double> bound;
        const std::vector<float> ref = Reference(s, g, x, w, bias, act, &bound);
        ASSERT_EQ(ref.size(), ny);
        for (size_t li = 0; li < sizeof kLayouts / sizeof kLayouts[0]; ++li) {
          kernels::SetConvOneDnnLayoutForTesting(kLayouts[li]);
          const std::string what = Name(s) + " act=" + std::to_string((int)act.kind) +
                                   (bias ? " bias" : " no bias") + " layout=" + kLayoutNames[li];
          std::vector<float> y1(ny, NAN), y2(ny, NAN), y3(ny, NAN);
          accepted[li] += RunConv(g, x, w, bias, &y1, nullptr, act);
          RunConv(g, x, w, bias, &y2, &p2, act);
          RunConv(g, x, w, bias, &y3, &p3, act);
          runs += li == 0;
          ExpectClose(y1, ref, bound, what);
          for (size_t i = 0; i < ny; ++i) {
            ASSERT_EQ(y1[i], y2[i]) << what << " i=" << i;
            ASSERT_EQ(y1[i], y3[i]) << what << " i=" << i;
          }
        }
      }
    }
  }
  for (size_t li = 0; li < sizeof kLayouts / sizeof kLayouts[0]; ++li) {
    std::printf("[ info ] layout %s: oneDNN took %d of %d cases (the rest ran im2col + SGEMM)\n", kLayoutNames[li],
                accepted[li], runs);
  }
}

TEST(ConvOneDnn, WeightCacheSeesNewValuesAtTheSameAddress) {
  LayoutReset reset;
  for (const Shape2& s : {Shape2{1, 8, 10, 10, 8, 3, 3, 1, 1, 1, 1}, Shape2{1, 17, 10, 10, 17, 3, 3, 1, 1, 1, 17},
                          Shape2{1, 5, 9, 10, 19, 3, 3, 2, 1, 1, 1}}) {
    for (OneDnnLayout layout : kLayouts) {
      kernels::SetConvOneDnnLayoutForTesting(layout);
      const ConvGeom g = Geom(s);
      const auto x = Random((size_t)(s.C * s.H * s.W), 4);
      auto w = Random((size_t)(s.M * (s.C / s.G) * s.KH * s.KW), 5);
      const size_t ny = (size_t)(s.M * g.OutSize());
      std::vector<float> a(ny), b(ny);
      std::vector<double> bound;
      RunConv(g, x, w, nullptr, &a, nullptr, Activation());
      for (float& v : w) v = -v;  // same buffer, new weights
      RunConv(g, x, w, nullptr, &b, nullptr, Activation());
      ExpectClose(b, Reference(s, g, x, w, nullptr, Activation(), &bound), bound, Name(s));
      for (size_t i = 0; i < ny; ++i) ASSERT_NEAR(b[i], -a[i], 1e-5 * (1.0 + bound[i])) << Name(s) << " i=" << i;
    }
  }
}

TEST(ConvOneDnn, ReferenceKernelsForcedMeansDecline) {
  // The switch's contract, the same on every CPU: forced reference kernels never run oneDNN.
  const bool was = ReferenceKernelsForced();
  SetReferenceKernelsForced(true);
  const Shape2 s{1, 16, 10, 10, 16, 3, 3, 1, 1, 1, 1};
  const ConvGeom g = Geom(s);
  const auto x = Random(16 * 100, 6), w = Random(16 * 16 * 9, 7);
  std::vector<float> y(16 * 100, NAN);
  EXPECT_FALSE(kernels::ConvForwardOneDnn(g, x.data(), w.data(), nullptr, y.data(), nullptr, Activation()));
  EXPECT_TRUE(std::isnan(y[0]));  // untouched
  EXPECT_EQ(kernels::DescribeConvOneDnn(g, w.data(), Activation()), "");
  SetReferenceKernelsForced(was);
}

TEST(ConvOneDnn, LogsWhichPathRuns) {
  // For the log only (which kernel a CPU gets is not a property of dopt): the path each typical
  // layer takes here.
  const Shape2 layers[] = {
      {1, 3, 224, 224, 64, 3, 3, 2, 0, 1, 1},    // SqueezeNet conv1
      {1, 16, 55, 55, 64, 3, 3, 1, 1, 1, 1},     // SqueezeNet fire expand3x3
      {1, 64, 13, 13, 256, 3, 3, 1, 1, 1, 1},    // SqueezeNet fire9 expand3x3
      {1, 32, 120, 160, 32, 3, 3, 2, 1, 1, 32},  // UltraFace depthwise
      {1, 17, 12, 10, 33, 3, 3, 2, 1, 1, 1},     // odd channel counts
      {1, 12, 10, 10, 18, 3, 3, 1, 1, 1, 3},     // grouped
      {1, 64, 55, 55, 16, 1, 1, 1, 0, 1, 1},     // pointwise
  };
  for (const Shape2& s : layers) {
    const auto w = Random((size_t)(s.M * (s.C / s.G) * s.KH * s.KW), 8);
    const std::string d = kernels::DescribeConvOneDnn(Geom(s), w.data(), Activation());
    std::printf("[ info ] %s: %s\n", Name(s).c_str(), d.empty() ? "im2col + SGEMM (oneDNN declined)" : d.c_str());
  }
  // What each layout the sweep asks for gives here.
  LayoutReset reset;
  for (const Shape2& s : {kShapes[6], kShapes[9]}) {
    const auto w = Random((size_t)(s.M * (s.C / s.G) * s.KH * s.KW), 9);
    for (size_t li = 0; li < sizeof kLayouts / sizeof kLayouts[0]; ++li) {
      kernels::SetConvOneDnnLayoutForTesting(kLayouts[li]);
      const std::string d = kernels::DescribeConvOneDnn(Geom(s), w.data(), Activation());
      std::printf("[ info ] %s, layout %s: %s\n", Name(s).c_str(), kLayoutNames[li],
                  d.empty() ? "im2col + SGEMM (oneDNN declined)" : d.c_str());
    }
  }
}

// ---- the channels-last path (kernels::ConvForwardOneDnnNhwc, used by the channels_last pass)

std::vector<float> ToNhwc(const std::vector<float>& x, int64_t n, int64_t c, int64_t hw) {
  std::vector<float> y(x.size());
  kernels::ChannelsFirstToLast(x.data(), y.data(), n, c, hw);
  return y;
}

TEST(ConvOneDnnNhwc, MatchesReferenceAndIgnoresThreadCount) {
  // The sweep plus shapes that split into several row blocks (56x56) and into channel blocks
  // (13x13 with 256 output channels; a weight-heavy conv), with every fused activation and an epilogue of
  // per-channel steps; 1, 2 and 3 threads give the same bits.
  std::vector<Shape2> shapes(std::begin(kShapes), std::end(kShapes));
  shapes.push_back({1, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1});
  shapes.push_back({1, 256, 13, 13, 256, 3, 3, 1, 1, 1, 1});
  shapes.push_back({2, 96, 27, 27, 200, 1, 1, 1, 0, 1, 1});
  shapes.push_back({1, 64, 57, 55, 64, 3, 3, 2, 1, 1, 64});
  // Weight-heavy (1.2 MB of weights, over the input's 0.6 MB): 2 row blocks x 4 channel blocks.
  shapes.push_back({1, 256, 24, 24, 128, 3, 3, 1, 1, 1, 1});
  // Grouped (RegNet: groups of 8 channels, several row blocks; stride 2; a grouped 1x1).
  shapes.push_back({1, 48, 56, 56, 48, 3, 3, 1, 1, 1, 6});
  shapes.push_back({1, 24, 29, 31, 48, 3, 3, 2, 1, 1, 3});
  shapes.push_back({1, 32, 14, 14, 64, 1, 1, 1, 0, 1, 4});
  ThreadPool p2(2), p3(3);
  const std::vector<Activation> acts = Activations();
  int accepted = 0, runs = 0;
  unsigned seed = 100;
  for (const Shape2& s : shapes) {
    const ConvGeom g = Geom(s);
    const auto x = Random((size_t)(s.N * s.C * s.H * s.W), seed);
    const auto w = Random((size_t)(s.M * (s.C / s.G) * s.KH * s.KW), seed + 1);
    const auto b = Random((size_t)s.M, seed + 2);
    seed += 3;
    const std::vector<float> xl = ToNhwc(x, s.N, s.C, s.H * s.W);
    const size_t ny = (size_t)(s.N * s.M * g.OutSize());
    // Epilogues: per-channel constants (run after the primitive), and programs oneDNN runs as
    // post-ops (SiLU, scalar affine steps, HardSwish, Sigmoid, Tanh, Clip), and Gelu (never a
    // post-op: dopt's own kernel after the primitive).
    using St = kernels::EpilogueStep;
    auto step = [](St::Op op, float a = 0.f, float b = 0.f) {
      St t;
      t.op = op;
      t.a = a;
      t.b = b;
      return t;
    };
    St per_channel = step(St::kMul);
    per_channel.channel_c = Random((size_t)s.M, seed);
    const std::vector<std::vector<St>> epilogues = {
        {per_channel, step(St::kTanh)},
        {step(St::kSave), step(St::kSigmoid), step(St::kMulSaved)},
        {step(St::kAdd, 0.25f), step(St::kHardSwish), step(St::kSub, 0.5f), step(St::kSigmoid)},
        {step(St::kMul, 1.5f), step(St::kDiv, 4.f), step(St::kTanh), step(St::kSubFrom, 1.f), step(St::kClip, 0.f, 0.9f)},
        {step(St::kAdd, 0.5f), step(St::kGelu), step(St::kMul, 2.f), step(St::kGelu, 1.f)},
    };
    for (size_t ai = 0; ai < acts.size() + epilogues.size(); ++ai) {
      const bool with_epi = ai >= acts.size();
      Activation act = with_epi ? Activation() : acts[ai];
      if (with_epi) act.epilogue = &epilogues[ai - acts.size()];
      std::vector<double> bound;
      std::vector<float> ref = Reference(s, g, x, w, b.data(), with_epi ? Activation() : act, &bound);
      if (with_epi) {
        for (int64_t n = 0; n < s.N; ++n)
          for (int64_t m = 0; m < s.M; ++m)
            kernels::ApplyEpilogue(*act.epilogue, ref.data() + (n * s.M + m) * g.OutSize(), g.OutSize(), m);
      }
      ref = ToNhwc(ref, s.N, s.M, g.OutSize());
      std::vector<double> bl(bound.size());
      {
        std::vector<float> bf(bound.begin(), bound.end()), bt(bound.size());
        kernels::ChannelsFirstToLast(bf.data(), bt.data(), s.N, s.M, g.OutSize());
        for (size_t i = 0; i < bl.size(); ++i) bl[i] = bt[i] * (with_epi ? 4.0 : 1.0);
      }
      const std::string what = Name(s) + " act=" + std::to_string(ai);
      std::vector<float> y1(ny, NAN), y2(ny, NAN), y3(ny, NAN);
      const bool ok = kernels::ConvForwardOneDnnNhwc(g, xl.data(), w.data(), b.data(), y1.data(), nullptr, act);
      ++runs;
      if (!ok) {
        ASSERT_TRUE(std::isnan(y1[0])) << what << ": declined but wrote";
        continue;
      }
      ++accepted;
      ASSERT_TRUE(kernels::ConvForwardOneDnnNhwc(g, xl.data(), w.data(), b.data(), y2.data(), &p2, act)) << what;
      ASSERT_TRUE(kernels::ConvForwardOneDnnNhwc(g, xl.data(), w.data(), b.data(), y3.data(), &p3, act)) << what;
      ExpectClose(y1, ref, bl, what);
      for (size_t i = 0; i < ny; ++i) {
        ASSERT_EQ(y1[i], y2[i]) << what << " i=" << i;
        ASSERT_EQ(y1[i], y3[i]) << what << " i=" << i;
      }
    }
  }
  std::printf("[ info ] channels-last: oneDNN took %d of %d cases\n", accepted, runs);
}

}  // namespace
}  // namespace dopt
