// Weight, bias and activation quantization parameters against hand-computed numbers.
#include <gtest/gtest.h>

#include <cmath>

#include "common/sha256.h"
#include "quant/quant_params.h"

namespace dopt {
namespace {

TEST(QuantParams, WeightPerChannelSymmetricWithAllZeroChannel) {
  // Conv W [3, 1, 1, 2]: channel maxima |.| = 2, 0 (all zero), 0.5.
  Tensor w = Tensor::FromFloats({3, 1, 1, 2}, {1, -2, 0, 0, 0.25f, -0.5f});
  auto q = WeightQuant("w", w, 0, true);
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(q->axis, 0);
  EXPECT_EQ(q->bits, 8);
  EXPECT_TRUE(q->symmetric);
  ASSERT_EQ(q->scales.size(), 3u);
  EXPECT_FLOAT_EQ(q->scales[0], 2.f / 127);
  EXPECT_EQ(q->scales[1], 1.f);  // all-zero channel: a valid scale, never 0/inf/NaN
  EXPECT_FLOAT_EQ(q->scales[2], 0.5f / 127);
  EXPECT_EQ(q->zero_points, (std::vector<int32_t>{0, 0, 0}));
  EXPECT_EQ(QuantizeValue(-2.f, *q, 0), -127);
  EXPECT_EQ(QuantizeValue(0.5f, *q, 0), 32);  // 31.75
  EXPECT_EQ(QuantizeValue(0.25f, *q, 2), 64);
  EXPECT_EQ(QuantizeValue(0.f, *q, 1), 0);
}

TEST(QuantParams, WeightPerTensor) {
  Tensor w = Tensor::FromFloats({2, 2}, {0.5f, -4, 1, 2});
  auto q = WeightQuant("w", w, 0, /*per_channel=*/false);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->axis, -1);
  ASSERT_EQ(q->scales.size(), 1u);
  EXPECT_FLOAT_EQ(q->scales[0], 4.f / 127);
}

TEST(QuantParams, WeightInnerAxisForConvTransposeAndMatMul) {
  // ConvTranspose W [Cin 2, Cout 3, 1, 1], channel axis 1: maxima over column c.
  Tensor w = Tensor::FromFloats({2, 3, 1, 1}, {1, 0, -3, -2, 0, 0.5f});
  auto q = WeightQuant("w", w, 1, true);
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->scales.size(), 3u);
  EXPECT_FLOAT_EQ(q->scales[0], 2.f / 127);
  EXPECT_EQ(q->scales[1], 1.f);
  EXPECT_FLOAT_EQ(q->scales[2], 3.f / 127);
  // MatMul B [K 2, N 2], axis 1 (last).
  auto m = WeightQuant("b", Tensor::FromFloats({2, 2}, {1, 0.1f, -0.5f, 0.2f}), 1, true);
  ASSERT_TRUE(m.ok());
  EXPECT_FLOAT_EQ(m->scales[0], 1.f / 127);
  EXPECT_FLOAT_EQ(m->scales[1], 0.2f / 127);
}

TEST(QuantParams, WeightFloat16AndNonFinite) {
  Tensor w = Tensor::FromFloats({2, 1}, {0.5f, -1}).CastTo(DType::kFloat16);
  auto q = WeightQuant("w", w, 0, true);
  ASSERT_TRUE(q.ok());
  EXPECT_FLOAT_EQ(q->scales[0], 0.5f / 127);
  EXPECT_FLOAT_EQ(q->scales[1], 1.f / 127);
  auto bad = WeightQuant("w", Tensor::FromFloats({2}, {1, NAN}), 0, true);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'w'"), std::string::npos);
}

TEST(QuantParams, ActivationAsymmetricZeroPoint) {
  // [-1, 3] over 255 steps: scale 4/255; zero point round(-128 + 1 / (4/255)) = round(-64.25) = -64.
  TensorQuant q = ActivationQuant("x", {-1.f, 3.f}, 8, false);
  EXPECT_FLOAT_EQ(q.scales[0], 4.f / 255);
  EXPECT_EQ(q.zero_points[0], -64);
  EXPECT_EQ(q.axis, -1);
  EXPECT_FALSE(q.symmetric);
  EXPECT_EQ(q.range_min, -1.f);
  EXPECT_EQ(q.range_max, 3.f);
  EXPECT_EQ(QuantizeValue(0.f, q, 0), -64);  // zero is exact
  // A ReLU output [0, 6]: zero point at qmin.
  TensorQuant r = ActivationQuant("y", {0.f, 6.f}, 8, false);
  EXPECT_FLOAT_EQ(r.scales[0], 6.f / 255);
  EXPECT_EQ(r.zero_points[0], -128);
}

TEST(QuantParams, ActivationSymmetricAnd16Bit) {
  TensorQuant q = ActivationQuant("x", {-1.f, 3.f}, 8, true);
  EXPECT_FLOAT_EQ(q.scales[0], 3.f / 127);
  EXPECT_EQ(q.zero_points[0], 0);
  TensorQuant w = ActivationQuant("x", {-2.f, 1.f}, 16, true);
  EXPECT_EQ(w.bits, 16);
  EXPECT_FLOAT_EQ(w.scales[0], 2.f / 32767);
  EXPECT_EQ(w.zero_points[0], 0);
  EXPECT_EQ(QuantizeValue(-2.f, w, 0), -32767);
  EXPECT_EQ(QuantizeValue(5.f, w, 0), 32767);  // clamped
  // A zero-width range (a tensor that is always 0) still gets a valid scale.
  TensorQuant z = ActivationQuant("z", {0.f, 0.f}, 8, false);
  EXPECT_EQ(z.scales[0], 1.f);
  EXPECT_EQ(z.zero_points[0], 0);
}

TEST(QuantParams, BiasScaleIsInputTimesWeightScale) {
  TensorQuant in = ActivationQuant("x", {0.f, 127.5f}, 8, false);  // scale 0.5
  ASSERT_FLOAT_EQ(in.scales[0], 0.5f);
  TensorQuant w;
  w.axis = 0;
  w.scales = {0.1f, 1.f};
  w.zero_points = {0, 0};
  auto b = BiasQuant("b", in, w, 2);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->bits, 32);
  EXPECT_EQ(b->axis, 0);
  EXPECT_FLOAT_EQ(b->scales[0], 0.05f);
  EXPECT_FLOAT_EQ(b->scales[1], 0.5f);
  EXPECT_EQ(b->zero_points, (std::vector<int32_t>{0, 0}));
  EXPECT_EQ(QuantizeValue(1.f, *b, 0), 20);
  // Grouped ConvTranspose: 2 weight scales (Cout/group) for 4 bias values repeat per group.
  auto g = BiasQuant("b", in, w, 4);
  ASSERT_TRUE(g.ok());
  EXPECT_FLOAT_EQ(g->scales[2], 0.05f);
  EXPECT_FLOAT_EQ(g->scales[3], 0.5f);
  EXPECT_FALSE(BiasQuant("b", in, w, 3).ok());
  // Per-tensor weight: one bias scale.
  TensorQuant wt;
  wt.scales = {0.2f};
  wt.zero_points = {0};
  auto t = BiasQuant("b", in, wt, 5);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->axis, -1);
  ASSERT_EQ(t->scales.size(), 1u);
  EXPECT_FLOAT_EQ(t->scales[0], 0.1f);
}

TEST(Sha256, KnownDigests) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  std::string million(1000000, 'a');
  Sha256 s;  // fed in odd-sized pieces
  for (size_t i = 0; i < million.size(); i += 777) s.Update(million.data() + i, std::min<size_t>(777, million.size() - i));
  EXPECT_EQ(s.HexDigest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

}  // namespace
}  // namespace dopt
