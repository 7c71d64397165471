// The TF exporter's pure parts: FakeQuantWithMinMaxVars ranges whose TF nudging gives back
// dopt's scale and zero point exactly, and the IR -> TF weight layouts (checked element by
// element against the layouts TF documents: HWIO, HWCM, HWOI, [K, N] / [N, K]).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "frontends/tf/tf_fake_quant.h"
#include "frontends/tf/tf_weight_layout.h"

namespace dopt {
namespace {

TEST(TfFakeQuant, NudgedScaleAndZeroPointAreDopts) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> le(-5, 1);
  std::uniform_int_distribution<int> zd(-128, 127);
  int exact = 0, total = 0;
  for (int i = 0; i < 2000; ++i) {
    const float s = std::pow(10.f, le(rng));
    const int32_t z = i % 10 == 0 ? -128 : zd(rng);
    FakeQuantRange r = FakeQuantMinMax(s, z, 8);
    float ns;
    int32_t nz;
    TfNudge(r.min, r.max, 8, &ns, &nz);
    ASSERT_EQ(nz, z + 128) << "scale " << s << " zero point " << z;
    if (z == -128) {
      EXPECT_EQ(r.min, 0.f);
    }
    ++total;
    if (r.exact) {
      EXPECT_EQ(ns, s);
      ++exact;
    } else {
      // Some scales are out of reach: fl((max - min) / 255) skips them; then it is one ulp off.
      EXPECT_TRUE(ns == std::nextafter(s, 0.f) || ns == std::nextafter(s, 1e30f)) << s << " " << ns;
    }
  }
  EXPECT_GE(exact, total * 99 / 100);  // measured: 1993 of 2000
  // 16-bit (symmetric): zero point 0 -> TF's unsigned zero point 32768.
  FakeQuantRange r = FakeQuantMinMax(0.001f, 0, 16);
  float ns;
  int32_t nz;
  TfNudge(r.min, r.max, 16, &ns, &nz);
  EXPECT_EQ(nz, 32768);
  EXPECT_EQ(ns, 0.001f);
}

Tensor Iota(DType t, const Shape& s) {
  Tensor x(t, s);
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = (float)i;
  return x;
}

TEST(TfWeightLayout, ConvDepthwiseBackpropMatMul) {
  // Conv2D: IR OIHW [O=3, I=2, H=2, W=2] -> TF HWIO: tf[h][w][i][o] == ir[o][i][h][w].
  Tensor ir = Iota(DType::kFloat32, {3, 2, 2, 2});
  auto tf = IrWeightToTf(ir, TfWeightKind::kHwio, 1);
  ASSERT_TRUE(tf.ok()) << tf.status().message();
  ASSERT_EQ(tf->shape(), (Shape{2, 2, 2, 3}));
  for (int o = 0; o < 3; ++o)
    for (int i = 0; i < 2; ++i)
      for (int h = 0; h < 2; ++h)
        for (int w = 0; w < 2; ++w)
          EXPECT_EQ(tf->data<float>()[((h * 2 + w) * 2 + i) * 3 + o], ir.data<float>()[((o * 2 + i) * 2 + h) * 2 + w]);
  EXPECT_EQ(*TfScaleShape(ir.shape(), TfWeightKind::kHwio, 0, 1), (Shape{3}));
  // ConvTranspose IOHW, channel axis 1 (O) -> TF HWOI dim 2: scale [O, 1].
  EXPECT_EQ(*TfScaleShape(ir.shape(), TfWeightKind::kHwio, 1, 1), (Shape{2, 1}));
  // Depthwise: IR [C*M=6, 1, 2, 2] with C = 3 -> TF [H, W, C=3, M=2]: tf[h][w][c][m] == ir[c*M+m][0][h][w].
  Tensor dw = Iota(DType::kFloat32, {6, 1, 2, 2});
  auto tdw = IrWeightToTf(dw, TfWeightKind::kHwcm, 3);
  ASSERT_TRUE(tdw.ok()) << tdw.status().message();
  ASSERT_EQ(tdw->shape(), (Shape{2, 2, 3, 2}));
  for (int c = 0; c < 3; ++c)
    for (int m = 0; m < 2; ++m)
      for (int h = 0; h < 2; ++h)
        for (int w = 0; w < 2; ++w)
          EXPECT_EQ(tdw->data<float>()[((h * 2 + w) * 3 + c) * 2 + m], dw.data<float>()[((c * 2 + m) * 2 + h) * 2 + w]);
  EXPECT_EQ(*TfScaleShape(dw.shape(), TfWeightKind::kHwcm, 0, 3), (Shape{3, 2}));
  EXPECT_FALSE(IrWeightToTf(dw, TfWeightKind::kHwcm, 4).ok());  // 6 channels are not C = 4 groups
  // MatMul: IR [K=2, N=3]; transpose_b -> TF [N, K].
  Tensor mm = Iota(DType::kFloat32, {2, 3});
  auto tmm = IrWeightToTf(mm, TfWeightKind::kMatMulTransposed, 1);
  ASSERT_TRUE(tmm.ok());
  ASSERT_EQ(tmm->shape(), (Shape{3, 2}));
  for (int k = 0; k < 2; ++k)
    for (int n = 0; n < 3; ++n) EXPECT_EQ(tmm->data<float>()[n * 2 + k], mm.data<float>()[k * 3 + n]);
  EXPECT_EQ(*TfScaleShape(mm.shape(), TfWeightKind::kMatMul, 1, 1), (Shape{3}));
  EXPECT_EQ(*TfScaleShape(mm.shape(), TfWeightKind::kMatMulTransposed, 1, 1), (Shape{3, 1}));
  EXPECT_EQ(*TfScaleShape(mm.shape(), TfWeightKind::kMatMul, -1, 1), (Shape{}));
  EXPECT_EQ(FindTfQuantizedOp("Conv3D"), nullptr);
  ASSERT_NE(FindTfQuantizedOp("DepthwiseConv2dNative"), nullptr);
}

}  // namespace
}  // namespace dopt
