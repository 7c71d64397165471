// kernels::ConvForwardOneDnn (oneDNN path of Conv) against the im2col + OpenBLAS ConvForward:
// same values up to rounding, for dense / strided / dilated / depthwise / 3-channel shapes and
// every fused activation; bit-identical for 1, 2 and 3 threads; and the weight cache notices
// new values at a reused weight address.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/conv.h"
#include "kernels/conv_onednn.h"

namespace dopt {
namespace {

using kernels::Activation;
using kernels::ConvGeom;

struct Shape2 {
  int64_t N, C, H, W, M, K, S, P, D, G;
};

ConvGeom Geom(const Shape2& s) {
  ConvGeom g;
  g.N = s.N;
  g.C = s.C;
  g.M = s.M;
  g.G = s.G;
  const int64_t oh = (s.H + 2 * s.P - s.D * (s.K - 1) - 1) / s.S + 1, ow = (s.W + 2 * s.P - s.D * (s.K - 1) - 1) / s.S + 1;
  g.SetSpatial({s.H, s.W}, {oh, ow}, {s.K, s.K}, {s.S, s.S}, {s.D, s.D}, {s.P, s.P});
  return g;
}

std::vector<float> Random(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& f : v) f = u(rng);
  return v;
}

const Shape2 kShapes[] = {
    {1, 16, 23, 19, 24, 3, 1, 1, 1, 1},   // dense 3x3
    {1, 3, 31, 29, 16, 3, 2, 0, 1, 1},    // 3 input channels, stride 2, ONNX-floored end pad
    {2, 8, 15, 17, 32, 3, 1, 2, 2, 1},    // batch 2, dilation 2
    {1, 32, 20, 21, 32, 3, 2, 1, 1, 32},  // depthwise stride 2
    {1, 16, 9, 9, 16, 3, 1, 1, 1, 16},    // depthwise
};

TEST(ConvOneDnn, MatchesIm2ColAndIgnoresThreadCount) {
  Activation acts[4];
  acts[1].kind = Activation::kRelu;
  acts[2].kind = Activation::kLeakyRelu;
  acts[2].alpha = 0.1f;
  acts[3].kind = Activation::kClip;
  acts[3].lo = -0.5f;
  acts[3].hi = std::numeric_limits<float>::infinity();
  ThreadPool p2(2), p3(3);
  for (const Shape2& s : kShapes) {
    const ConvGeom g = Geom(s);
    const auto x = Random((size_t)(s.N * s.C * s.H * s.W), 1);
    const auto w = Random((size_t)(s.M * (s.C / s.G) * s.K * s.K), 2);
    const auto b = Random((size_t)s.M, 3);
    const size_t ny = (size_t)(s.N * s.M * g.OutSize());
    for (const Activation& act : acts) {
      for (const float* bias : {b.data(), (const float*)nullptr}) {
        std::vector<float> ref(ny), y1(ny, NAN), y2(ny, NAN), y3(ny, NAN);
        kernels::ConvForward(g, x.data(), w.data(), bias, ref.data(), nullptr, act);
        ASSERT_TRUE(kernels::ConvForwardOneDnn(g, x.data(), w.data(), bias, y1.data(), nullptr, act))
            << "C=" << s.C << " M=" << s.M << " G=" << s.G;
        ASSERT_TRUE(kernels::ConvForwardOneDnn(g, x.data(), w.data(), bias, y2.data(), &p2, act));
        ASSERT_TRUE(kernels::ConvForwardOneDnn(g, x.data(), w.data(), bias, y3.data(), &p3, act));
        for (size_t i = 0; i < ny; ++i) {
          ASSERT_NEAR(y1[i], ref[i], 1e-4f * (1.f + std::fabs(ref[i]))) << "C=" << s.C << " G=" << s.G << " i=" << i;
          ASSERT_EQ(y1[i], y2[i]) << i;
          ASSERT_EQ(y1[i], y3[i]) << i;
        }
      }
    }
  }
}

TEST(ConvOneDnn, WeightCacheSeesNewValuesAtTheSameAddress) {
  const Shape2 s{1, 8, 10, 10, 8, 3, 1, 1, 1, 1};
  const ConvGeom g = Geom(s);
  const auto x = Random(8 * 100, 4);
  auto w = Random(8 * 8 * 9, 5);
  std::vector<float> a(8 * 100), b(8 * 100), ref(8 * 100);
  ASSERT_TRUE(kernels::ConvForwardOneDnn(g, x.data(), w.data(), nullptr, a.data(), nullptr, Activation()));
  for (float& v : w) v = -v;  // same buffer, new weights
  ASSERT_TRUE(kernels::ConvForwardOneDnn(g, x.data(), w.data(), nullptr, b.data(), nullptr, Activation()));
  kernels::ConvForward(g, x.data(), w.data(), nullptr, ref.data(), nullptr, Activation());
  for (size_t i = 0; i < b.size(); ++i) {
    ASSERT_NEAR(b[i], ref[i], 1e-4f * (1.f + std::fabs(ref[i])));
    ASSERT_NEAR(b[i], -a[i], 1e-4f * (1.f + std::fabs(a[i])));
  }
}

TEST(ConvOneDnn, DeclinesPointwiseAndOddChannelCounts) {
  const auto x = Random(12 * 25, 6), w = Random(12 * 12, 7);
  std::vector<float> y(12 * 25);
  // 1x1 stride 1 stays on OpenBLAS; 12 output channels are not a multiple of 8.
  EXPECT_FALSE(kernels::ConvForwardOneDnn(Geom({1, 8, 5, 5, 8, 1, 1, 0, 1, 1}), x.data(), w.data(), nullptr,
                                          y.data(), nullptr, Activation()));
  EXPECT_FALSE(kernels::ConvForwardOneDnn(Geom({1, 4, 5, 5, 12, 3, 1, 1, 1, 1}), x.data(), w.data(), nullptr,
                                          y.data(), nullptr, Activation()));
}

}  // namespace
}  // namespace dopt
