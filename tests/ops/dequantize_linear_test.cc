#include "elem_op_test_util.h"

namespace dopt {
namespace {
using namespace elemtest;

TEST(DequantizeLinear, PerTensorInt8AndUInt8) {
  Node n = MakeNode("DequantizeLinear", 3, 1);
  Tensor x = Make<int8_t>(DType::kInt8, {3}, {-128, 0, 127});
  Tensor s = F({}, {0.5f});
  Tensor zp = Make<int8_t>(DType::kInt8, {}, {-1});
  auto out = RunNode(n, {&x, &s, &zp});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].dtype(), DType::kFloat32);
  EXPECT_EQ(Values<float>((*out)[0]), (std::vector<float>{-63.5f, 0.5f, 64.f}));

  Node n2 = MakeNode("DequantizeLinear", 2, 1);
  Tensor xu = Make<uint8_t>(DType::kUInt8, {2}, {0, 255});
  Tensor s2 = F({}, {2.f});
  auto out2 = RunNode(n2, {&xu, &s2});
  ASSERT_TRUE(out2.ok()) << out2.status().message();
  EXPECT_EQ(Values<float>((*out2)[0]), (std::vector<float>{0.f, 510.f}));
}

TEST(DequantizeLinear, Int32Bias) {
  Node n = MakeNode("DequantizeLinear", 2, 1, {{"axis", AttrI(0)}});
  Tensor x = Make<int32_t>(DType::kInt32, {2}, {100000, -7});
  Tensor s = F({2}, {0.001f, 0.5f});
  auto out = RunNode(n, {&x, &s});
  ASSERT_TRUE(out.ok()) << out.status().message();
  auto y = Values<float>((*out)[0]);
  EXPECT_FLOAT_EQ(y[0], 100.f);
  EXPECT_FLOAT_EQ(y[1], -3.5f);
}

TEST(DequantizeLinear, PerAxisAxis0AndAxis1) {
  Tensor x = Make<uint8_t>(DType::kUInt8, {2, 3}, {10, 20, 30, 40, 50, 60});
  {
    Node n = MakeNode("DequantizeLinear", 3, 1, {{"axis", AttrI(0)}});
    Tensor s = F({2}, {1.f, 0.5f});
    Tensor zp = Make<uint8_t>(DType::kUInt8, {2}, {10, 50});
    auto out = RunNode(n, {&x, &s, &zp});
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ(Values<float>((*out)[0]), (std::vector<float>{0.f, 10.f, 20.f, -5.f, 0.f, 5.f}));
  }
  {
    Node n = MakeNode("DequantizeLinear", 3, 1, {{"axis", AttrI(-1)}});
    Tensor s = F({3}, {1.f, 2.f, 0.25f});
    Tensor zp = Make<uint8_t>(DType::kUInt8, {3}, {0, 20, 40});
    auto out = RunNode(n, {&x, &s, &zp});
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ(Values<float>((*out)[0]), (std::vector<float>{10.f, 0.f, -2.5f, 40.f, 60.f, 5.f}));
  }
}

TEST(DequantizeLinear, InferReportsScaleDTypeAndChecksZeroPoint) {
  Node n = MakeNode("DequantizeLinear", 3, 1);
  auto info = InferNode(n, {Info(DType::kInt8, {1, 4, -1}), Info(DType::kFloat16, {4}), Info(DType::kInt8, {4})});
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ((*info)[0].dtype, DType::kFloat16);
  EXPECT_EQ((*info)[0].shape, (Shape{1, 4, -1}));
  auto bad = InferNode(n, {Info(DType::kInt8, {4}), Info(DType::kFloat32, {}), Info(DType::kUInt8, {})});
  EXPECT_FALSE(bad.ok());
  auto bad_x = InferNode(n, {Info(DType::kFloat32, {4}), Info(DType::kFloat32, {}), Info(DType::kUInt8, {})});
  EXPECT_FALSE(bad_x.ok());
}

TEST(DequantizeLinear, RoundTripsQuantizeLinearWithinHalfAStep) {
  Node q = MakeNode("QuantizeLinear", 3, 1);
  Node dq = MakeNode("DequantizeLinear", 3, 1);
  std::vector<float> xv;
  for (int i = -20; i <= 20; ++i) xv.push_back(0.37f * i);
  Tensor x = F({(int64_t)xv.size()}, xv);
  Tensor s = F({}, {0.1f});
  Tensor zp = Make<int8_t>(DType::kInt8, {}, {3});
  auto qo = RunNode(q, {&x, &s, &zp});
  ASSERT_TRUE(qo.ok());
  auto d = RunNode(dq, {&(*qo)[0], &s, &zp});
  ASSERT_TRUE(d.ok());
  auto y = Values<float>((*d)[0]);
  for (size_t i = 0; i < xv.size(); ++i) EXPECT_NEAR(y[i], xv[i], 0.05f + 1e-5f) << i;
}

}  // namespace
}  // namespace dopt
