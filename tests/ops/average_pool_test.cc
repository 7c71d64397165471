// AveragePool against a naive loop (count_include_pad, ceil_mode, pads, auto_pad).
#include "check_op.h"
#include "pool_ref.h"

namespace dopt {
namespace {

using namespace optest;

TEST(AveragePoolOp, SweepMatchesNaiveLoop) {
  uint32_t seed = 31;
  for (int64_t H : {4, 7, 11})
    for (int64_t K : {2, 3})
      for (int64_t S : {1, 2})
        for (int64_t P : {0, 1})
          for (int inc = 0; inc < 2; ++inc)
            for (int ceil = 0; ceil < 2; ++ceil) {
              if (P >= K) continue;
              const int64_t W = H + 3;
              auto osz = [&](int64_t in) {
                int64_t span = in + 2 * P - K;
                int64_t o = ceil ? (span + S - 1) / S + 1 : span / S + 1;
                if (ceil && (o - 1) * S >= in + P) --o;
                return o;
              };
              const int64_t OH = osz(H), OW = osz(W);
              Tensor x = Random({1, 4, H, W}, seed++);
              auto ref = [&](const std::vector<Tensor>& in) {
                return std::vector<Tensor>{Tensor::FromFloats(
                    {1, 4, OH, OW},
                    RefPool2D(in[0].data<float>(), 4, H, W, OH, OW, K, K, S, S, 1, 1, P, P, P, P, inc ? 2 : 1))};
              };
              std::vector<Tensor> y;
              ASSERT_TRUE(CheckOp(OpCase("AveragePool")
                                      .Attr("kernel_shape", IntsAttr({K, K}))
                                      .Attr("strides", IntsAttr({S, S}))
                                      .Attr("pads", IntsAttr({P, P, P, P}))
                                      .Attr("count_include_pad", IntAttr(inc))
                                      .Attr("ceil_mode", IntAttr(ceil))
                                      .Input(x)
                                      .Reference(ref, Tol::Near(1e-6))
                                      .Label("H=" + std::to_string(H) + " K=" + std::to_string(K) + " S=" +
                                             std::to_string(S) + " P=" + std::to_string(P) + " inc=" +
                                             std::to_string(inc) + " ceil=" + std::to_string(ceil)),
                                  &y));
              ASSERT_EQ(y[0].shape(), (Shape{1, 4, OH, OW}));
            }
}

// Stride 1 (kernels/pool.cc's zero-padded plane path, any width): the bits of a float loop that
// sums each output's taps inside the input in (kh, kw) order from 0 and divides once, with
// asymmetric pads, dilations, rectangular kernels, both count_include_pad settings.
TEST(AveragePoolOp, StrideOneHasTheTapOrderBits) {
  struct Case {
    int64_t H, W, KH, KW, D, pt, pl, pb, pr;
  } cases[] = {{14, 14, 3, 3, 1, 1, 1, 1, 1}, {7, 40, 3, 3, 1, 1, 1, 1, 1}, {9, 11, 2, 3, 1, 0, 1, 1, 0},
               {10, 12, 3, 3, 2, 2, 2, 2, 2}, {5, 6, 5, 5, 1, 2, 2, 2, 2},  {8, 70, 1, 7, 1, 0, 3, 0, 3}};
  uint32_t seed = 90;
  for (const Case& c : cases)
    for (int inc = 0; inc < 2; ++inc) {
      const int64_t OH = c.H + c.pt + c.pb - (c.KH - 1) * c.D, OW = c.W + c.pl + c.pr - (c.KW - 1) * c.D;
      Tensor x = Random({2, 3, c.H, c.W}, seed++);
      // Some exact zeros and negative zeros, whose sums must not turn -0.
      x.data<float>()[0] = -0.f;
      x.data<float>()[1] = 0.f;
      auto ref = [&](const std::vector<Tensor>& in) {
        Tensor y(DType::kFloat32, {2, 3, OH, OW});
        for (int64_t p = 0; p < 6; ++p)
          for (int64_t oh = 0; oh < OH; ++oh)
            for (int64_t ow = 0; ow < OW; ++ow) {
              float sum = 0.f;
              int64_t inside = 0;
              for (int64_t kh = 0; kh < c.KH; ++kh)
                for (int64_t kw = 0; kw < c.KW; ++kw) {
                  const int64_t ih = oh - c.pt + kh * c.D, iw = ow - c.pl + kw * c.D;
                  if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) continue;
                  sum += in[0].data<float>()[(p * c.H + ih) * c.W + iw];
                  ++inside;
                }
              const int64_t count = inc ? c.KH * c.KW : inside;
              y.data<float>()[(p * OH + oh) * OW + ow] = count ? sum / (float)count : 0.f;
            }
        return std::vector<Tensor>{y};
      };
      ASSERT_TRUE(CheckOp(OpCase("AveragePool")
                              .Attr("kernel_shape", IntsAttr({c.KH, c.KW}))
                              .Attr("dilations", IntsAttr({c.D, c.D}))
                              .Attr("pads", IntsAttr({c.pt, c.pl, c.pb, c.pr}))
                              .Attr("count_include_pad", IntAttr(inc))
                              .Input(x)
                              .Reference(ref, Tol::Exact())
                              .Label(std::to_string(c.H) + "x" + std::to_string(c.W) + " k" + std::to_string(c.KH) +
                                     "x" + std::to_string(c.KW) + " inc=" + std::to_string(inc))));
    }
}

// 3-D with one input depth and a depth pad before it (stride 2 in depth): the one output depth
// reads only padding, so every output is 0 (count_include_pad 0: no tap inside) or 0 over the
// window (count_include_pad 1); the 2-D stride-1 path must not take it.
TEST(AveragePoolOp, DepthPaddingOnlyWindowIsZero) {
  Tensor x = Random({1, 2, 1, 5, 6}, 95, 1.f, 2.f);
  for (int inc = 0; inc < 2; ++inc) {
    Tensor want(DType::kFloat32, {1, 2, 1, 5, 6});
    for (int64_t i = 0; i < want.numel(); ++i) want.data<float>()[i] = 0.f;
    EXPECT_TRUE(CheckOp(OpCase("AveragePool")
                            .Attr("kernel_shape", IntsAttr({1, 3, 3}))
                            .Attr("strides", IntsAttr({2, 1, 1}))
                            .Attr("pads", IntsAttr({1, 1, 1, 0, 1, 1}))
                            .Attr("count_include_pad", IntAttr(inc))
                            .Input(x)
                            .Expect(want, Tol::Exact())));
  }
}

TEST(AveragePoolOp, SameUpperAndBadInput) {
  Tensor x = Tensor::FromFloats({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  OpCase c = OpCase("AveragePool")
                 .Attr("kernel_shape", IntsAttr({2, 2}))
                 .Attr("auto_pad", StringAttr("SAME_UPPER"))
                 .Attr("strides", IntsAttr({2, 2}));
  EXPECT_TRUE(CheckOp(OpCase(c).Input(x).Expect(Tensor::FromFloats({1, 1, 2, 2}, {3, 4.5f, 7.5f, 9}), Tol::Near(1e-6))));
  EXPECT_FALSE(InferOp(c, {Info(DType::kInt32, {1, 1, 3, 3})}).ok());
  EXPECT_FALSE(InferOp(c, {Info(DType::kFloat32, {3, 3})}).ok());
}

// A window longer than the input: one output in ceil mode (transformers' EfficientNet pools
// 7x7 with a 2560 window and stride), the mean of the whole plane with or without
// count_include_pad, as in ONNX Runtime and PyTorch; an error without ceil mode, or when even
// ceil mode leaves no window (the span falls a whole stride short).
TEST(AveragePoolOp, CeilModeWindowLongerThanTheInput) {
  Tensor x = Random({1, 2, 3, 4}, 7);
  std::vector<float> mean(2, 0.f);
  for (int c = 0; c < 2; ++c) {
    double s = 0;
    for (int i = 0; i < 12; ++i) s += x.data<float>()[c * 12 + i];
    mean[c] = (float)(s / 12);
  }
  for (int inc = 0; inc < 2; ++inc) {
    OpCase c = OpCase("AveragePool")
                   .Attr("kernel_shape", IntsAttr({9, 9}))
                   .Attr("strides", IntsAttr({9, 9}))
                   .Attr("count_include_pad", IntAttr(inc))
                   .Attr("ceil_mode", IntAttr(1))
                   .Input(x)
                   .Expect(Tensor::FromFloats({1, 2, 1, 1}, mean), Tol::Near(1e-6));
    EXPECT_TRUE(CheckOp(c)) << "count_include_pad=" << inc;
  }
  OpCase floor_mode = OpCase("AveragePool").Attr("kernel_shape", IntsAttr({9, 9})).Attr("strides", IntsAttr({9, 9}));
  EXPECT_FALSE(InferOp(floor_mode, {Info(DType::kFloat32, {1, 2, 3, 4})}).ok());
  OpCase short_stride = OpCase("AveragePool")
                            .Attr("kernel_shape", IntsAttr({9, 9}))
                            .Attr("strides", IntsAttr({2, 2}))
                            .Attr("ceil_mode", IntAttr(1));
  EXPECT_FALSE(InferOp(short_stride, {Info(DType::kFloat32, {1, 2, 3, 4})}).ok());
}

}  // namespace
}  // namespace dopt
