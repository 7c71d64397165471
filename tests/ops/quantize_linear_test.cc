#include <cmath>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(QuantizeLinear, PerTensorUInt8RoundsHalfToEvenAndSaturates) {
  Tensor x = Tensor::FromFloats({9}, {0.f, 1.f, 3.f, 5.f, -1.f, -3.f, 1000.f, -1000.f, 2.9999f});
  Tensor s = Tensor::FromFloats({}, {2.f});
  Tensor zp = Make<uint8_t>(DType::kUInt8, {}, {128});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("QuantizeLinear").Inputs({x, s, zp}), &out));
  const Tensor& y = out[0];
  EXPECT_EQ(y.dtype(), DType::kUInt8);
  // x / 2 = 0, .5, 1.5, 2.5, -.5, -1.5, 500, -500, 1.49995
  EXPECT_EQ(Values<uint8_t>(y), (std::vector<uint8_t>{128, 128, 130, 130, 128, 126, 255, 0, 129}));
}

TEST(QuantizeLinear, PerTensorInt8) {
  Tensor x = Tensor::FromFloats({6}, {0.25f, 0.75f, -0.25f, 100.f, -100.f, 63.25f});
  Tensor s = Tensor::FromFloats({}, {0.5f});
  Tensor zp = Make<int8_t>(DType::kInt8, {}, {-1});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("QuantizeLinear").Inputs({x, s, zp}), &out));
  EXPECT_EQ(out[0].dtype(), DType::kInt8);
  // x / .5 = .5, 1.5, -.5, 200, -200, 126.5 -> 0, 2, -0, 200, -200, 126; then -1 and saturate.
  EXPECT_EQ(Values<int8_t>(out[0]), (std::vector<int8_t>{-1, 1, -1, 127, -128, 125}));
}

TEST(QuantizeLinear, NoZeroPointGivesUInt8) {
  Tensor x = Tensor::FromFloats({3}, {-1.f, 2.5f, 3.5f});
  Tensor s = Tensor::FromFloats({}, {1.f});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("QuantizeLinear").Inputs({x, s}), &out));
  EXPECT_EQ(out[0].dtype(), DType::kUInt8);
  EXPECT_EQ(Values<uint8_t>(out[0]), (std::vector<uint8_t>{0, 2, 4}));
  auto info = InferOp(OpCase("QuantizeLinear"), {Info(DType::kFloat32, {-1}), Info(DType::kFloat32, {})});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*info)[0].dtype, DType::kUInt8);
  EXPECT_EQ((*info)[0].shape, (Shape{-1}));
}

TEST(QuantizeLinear, PerAxisAxis0) {
  Tensor x = Tensor::FromFloats({2, 3}, {1.5f, 2.5f, -3.5f, 1.f, 1.25f, -70.f});
  Tensor s = Tensor::FromFloats({2}, {1.f, 0.5f});
  Tensor zp = Make<int8_t>(DType::kInt8, {2}, {0, -5});
  // Row 0: 2, 2, -4. Row 1: x / .5 = 2, 2.5 -> 2, -140; -5 -> -3, -3, -145 -> -128.
  EXPECT_TRUE(CheckOp(OpCase("QuantizeLinear").Attr("axis", IntAttr(0)).Inputs({x, s, zp})
                          .Expect(Make<int8_t>(DType::kInt8, {2, 3}, {2, 2, -4, -3, -3, -128}))));
}

// round(x / s) + zp saturated, as an independent loop (round half to even).
std::vector<Tensor> RefQuantizeUInt8Axis1(const std::vector<Tensor>& in) {
  const Tensor& x = in[0];
  const int64_t C = x.dim(1), inner = NumElements(Shape(x.shape().begin() + 2, x.shape().end()));
  Tensor y(DType::kUInt8, x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int64_t c = (i / inner) % C;
    double q = std::nearbyint((double)x.data<float>()[i] / in[1].data<float>()[c]) + in[2].data<uint8_t>()[c];
    y.data<uint8_t>()[i] = (uint8_t)std::min(255.0, std::max(0.0, q));
  }
  return {y};
}

TEST(QuantizeLinear, PerAxisAxis1MatchesIndependentLoop) {
  // Default axis is 1.
  const int64_t N = 2, C = 3, W = 4;
  std::vector<float> xv;
  for (int i = 0; i < N * C * W; ++i) xv.push_back(0.75f * (float)(i - 9));
  Tensor x = Tensor::FromFloats({N, C, W}, xv);
  Tensor s = Tensor::FromFloats({C}, {0.5f, 1.f, 0.25f});
  Tensor zp = Make<uint8_t>(DType::kUInt8, {C}, {0, 10, 250});
  EXPECT_TRUE(CheckOp(OpCase("QuantizeLinear").Inputs({x, s, zp}).Reference(RefQuantizeUInt8Axis1, Tol::Exact())));
  // The same on a tensor split across threads.
  Tensor big = Random({3, C, 7001}, 44, -40.f, 40.f);
  EXPECT_TRUE(CheckOp(OpCase("QuantizeLinear").Inputs({big, s, zp}).Reference(RefQuantizeUInt8Axis1, Tol::Exact()).Label("large")));
}

TEST(QuantizeLinear, ResultDoesNotDependOnThreads) {
  std::vector<float> xv(3 * 50000);
  for (size_t i = 0; i < xv.size(); ++i) xv[i] = std::sin((float)i) * 10.f;
  Tensor x = Tensor::FromFloats({1, 3, 50000}, xv);
  Tensor s = Tensor::FromFloats({3}, {0.1f, 0.05f, 0.2f});
  Tensor zp = Make<int8_t>(DType::kInt8, {3}, {0, 3, -3});
  EXPECT_TRUE(CheckOp(OpCase("QuantizeLinear").Inputs({x, s, zp}).Threads({2, 4})));
}

TEST(QuantizeLinear, RejectsBadScaleShapeAndTypes) {
  OpCase c("QuantizeLinear");
  Tensor x = Tensor::FromFloats({2, 3}, {0, 0, 0, 0, 0, 0});
  Tensor s = Tensor::FromFloats({2}, {1.f, 1.f});  // axis 1 has 3 elements
  Tensor zp = Make<uint8_t>(DType::kUInt8, {2}, {0, 0});
  EXPECT_FALSE(RunOp(OpCase(c).Inputs({x, s, zp})).ok());
  auto info = InferOp(c, {Info(DType::kFloat32, {2, 3}), Info(DType::kFloat32, {2}), Info(DType::kUInt8, {2})});
  EXPECT_FALSE(info.ok());
  auto bad_type = InferOp(c, {Info(DType::kInt64, {2, 3}), Info(DType::kFloat32, {}), Info(DType::kUInt8, {})});
  ASSERT_FALSE(bad_type.ok());
  EXPECT_NE(bad_type.status().message().find("node 'n'"), std::string::npos);
  EXPECT_EQ(InferOp(OpCase("QuantizeLinear").Attr("block_size", IntAttr(2)),
                    {Info(DType::kFloat32, {2, 4}), Info(DType::kFloat32, {2, 2})}).status().code(),
            StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace dopt
