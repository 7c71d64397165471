#include <cmath>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(DequantizeLinear, PerTensorInt8AndUInt8) {
  Tensor x = Make<int8_t>(DType::kInt8, {3}, {-128, 0, 127});
  Tensor s = Tensor::FromFloats({}, {0.5f});
  Tensor zp = Make<int8_t>(DType::kInt8, {}, {-1});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("DequantizeLinear").Inputs({x, s, zp}), &out));
  EXPECT_EQ(out[0].dtype(), DType::kFloat32);
  EXPECT_EQ(Values<float>(out[0]), (std::vector<float>{-63.5f, 0.5f, 64.f}));

  Tensor xu = Make<uint8_t>(DType::kUInt8, {2}, {0, 255});
  Tensor s2 = Tensor::FromFloats({}, {2.f});
  EXPECT_TRUE(CheckOp(OpCase("DequantizeLinear").Inputs({xu, s2}).Expect(Tensor::FromFloats({2}, {0.f, 510.f}))));
}

TEST(DequantizeLinear, Int32Bias) {
  Tensor x = Make<int32_t>(DType::kInt32, {2}, {100000, -7});
  Tensor s = Tensor::FromFloats({2}, {0.001f, 0.5f});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("DequantizeLinear").Attr("axis", IntAttr(0)).Inputs({x, s}), &out));
  auto y = Values<float>(out[0]);
  EXPECT_FLOAT_EQ(y[0], 100.f);
  EXPECT_FLOAT_EQ(y[1], -3.5f);
}

TEST(DequantizeLinear, PerAxisAxis0AndAxis1) {
  Tensor x = Make<uint8_t>(DType::kUInt8, {2, 3}, {10, 20, 30, 40, 50, 60});
  {
    Tensor s = Tensor::FromFloats({2}, {1.f, 0.5f});
    Tensor zp = Make<uint8_t>(DType::kUInt8, {2}, {10, 50});
    EXPECT_TRUE(CheckOp(OpCase("DequantizeLinear").Attr("axis", IntAttr(0)).Inputs({x, s, zp})
                            .Expect(Tensor::FromFloats({2, 3}, {0.f, 10.f, 20.f, -5.f, 0.f, 5.f}))));
  }
  {
    Tensor s = Tensor::FromFloats({3}, {1.f, 2.f, 0.25f});
    Tensor zp = Make<uint8_t>(DType::kUInt8, {3}, {0, 20, 40});
    EXPECT_TRUE(CheckOp(OpCase("DequantizeLinear").Attr("axis", IntAttr(-1)).Inputs({x, s, zp})
                            .Expect(Tensor::FromFloats({2, 3}, {10.f, 0.f, -2.5f, 40.f, 60.f, 5.f}))));
  }
}

// Per-tensor and per-channel (axis 1) on tensors split across threads, against (q - zp) * s.
TEST(DequantizeLinear, LargePerChannelMatchesFormula) {
  const int64_t C = 5;
  Tensor x = Random({2, C, 4099}, 11, -128.f, 128.f).CastTo(DType::kInt8);
  Tensor s = Random({C}, 12, 0.01f, 0.5f);
  Tensor zp = Make<int8_t>(DType::kInt8, {C}, {-3, 0, 7, -128, 127});
  auto ref = [](const std::vector<Tensor>& in) {
    const Tensor& q = in[0];
    const int64_t C = in[1].numel(), inner = q.dim(2);
    Tensor y(DType::kFloat32, q.shape());
    for (int64_t i = 0; i < q.numel(); ++i) {
      const int64_t c = C == 1 ? 0 : (i / inner) % C;
      y.data<float>()[i] = (float)(q.data<int8_t>()[i] - in[2].data<int8_t>()[c]) * in[1].data<float>()[c];
    }
    return std::vector<Tensor>{y};
  };
  EXPECT_TRUE(CheckOp(OpCase("DequantizeLinear").Inputs({x, s, zp}).Reference(ref, Tol::Exact()).Label("per channel")));
  Tensor s1 = Tensor::FromFloats({}, {0.125f});
  Tensor zp1 = Make<int8_t>(DType::kInt8, {}, {-9});
  EXPECT_TRUE(CheckOp(OpCase("DequantizeLinear").Inputs({x, s1, zp1}).Reference(ref, Tol::Exact()).Label("per tensor")));
}

TEST(DequantizeLinear, InferReportsScaleDTypeAndChecksZeroPoint) {
  OpCase c("DequantizeLinear");
  auto info = InferOp(c, {Info(DType::kInt8, {1, 4, -1}), Info(DType::kFloat16, {4}), Info(DType::kInt8, {4})});
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ((*info)[0].dtype, DType::kFloat16);
  EXPECT_EQ((*info)[0].shape, (Shape{1, 4, -1}));
  auto bad = InferOp(c, {Info(DType::kInt8, {4}), Info(DType::kFloat32, {}), Info(DType::kUInt8, {})});
  EXPECT_FALSE(bad.ok());
  auto bad_x = InferOp(c, {Info(DType::kFloat32, {4}), Info(DType::kFloat32, {}), Info(DType::kUInt8, {})});
  EXPECT_FALSE(bad_x.ok());
}

TEST(DequantizeLinear, RoundTripsQuantizeLinearWithinHalfAStep) {
  std::vector<float> xv;
  for (int i = -20; i <= 20; ++i) xv.push_back(0.37f * i);
  Tensor x = Tensor::FromFloats({(int64_t)xv.size()}, xv);
  Tensor s = Tensor::FromFloats({}, {0.1f});
  Tensor zp = Make<int8_t>(DType::kInt8, {}, {3});
  std::vector<Tensor> q, d;
  ASSERT_TRUE(CheckOp(OpCase("QuantizeLinear").Inputs({x, s, zp}), &q));
  ASSERT_TRUE(CheckOp(OpCase("DequantizeLinear").Inputs({q[0], s, zp}), &d));
  auto y = Values<float>(d[0]);
  for (size_t i = 0; i < xv.size(); ++i) EXPECT_NEAR(y[i], xv[i], 0.05f + 1e-5f) << i;
}

}  // namespace
}  // namespace dopt
