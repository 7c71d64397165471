#include <cmath>
#include <cstring>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(Pow, FloatBaseWithIntExponentBroadcast) {
  Tensor x = Tensor::FromFloats({2, 2}, {2.f, 3.f, -2.f, 0.5f});
  Tensor y = Make<int64_t>(DType::kInt64, {2}, {3, -1});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Pow").Inputs({x, y}), &out));
  EXPECT_EQ(out[0].dtype(), DType::kFloat32);
  EXPECT_EQ(Values<float>(out[0]), (std::vector<float>{8.f, 1.f / 3.f, -8.f, 2.f}));
}

TEST(Pow, IntBaseExactAndNegativeExponent) {
  Tensor x = Make<int64_t>(DType::kInt64, {5}, {3, 2, -1, 0, 7});
  Tensor y = Make<int32_t>(DType::kInt32, {5}, {39, -2, -3, -1, 0});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Pow").Inputs({x, y}), &out));
  EXPECT_EQ(out[0].dtype(), DType::kInt64);
  EXPECT_EQ(Values<int64_t>(out[0]), (std::vector<int64_t>{4052555153018976267LL, 0, -1, 0, 1}));
}

TEST(Pow, IntBaseFloatExponentTruncates) {
  Tensor x = Make<int32_t>(DType::kInt32, {3}, {4, 10, 2});
  Tensor y = Tensor::FromFloats({3}, {0.5f, 1.5f, -1.f});
  EXPECT_TRUE(CheckOp(OpCase("Pow").Inputs({x, y}).Expect(Make<int32_t>(DType::kInt32, {3}, {2, 31, 0}))));
}

TEST(Pow, InferKeepsBaseTypeAndRejectsBadTypes) {
  OpCase c("Pow");
  auto info = InferOp(c, {Info(DType::kFloat16, {3, 1}), Info(DType::kInt64, {4})});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*info)[0].dtype, DType::kFloat16);
  EXPECT_EQ((*info)[0].shape, (Shape{3, 4}));
  EXPECT_FALSE(InferOp(c, {Info(DType::kInt8, {3}), Info(DType::kInt64, {3})}).ok());
  EXPECT_FALSE(InferOp(c, {Info(DType::kFloat32, {3}), Info(DType::kBool, {3})}).ok());
  EXPECT_FALSE(InferOp(c, {Info(DType::kFloat32, {3}), Info(DType::kFloat32, {2})}).ok());
}

// x ^ 2 takes a vectorised x * x: the correctly rounded square (the exact square in double,
// rounded once), for a float or an integer exponent; halfway cases (4097, 1 + 2^-12) where glibc's
// powf rounds the other way, negative, tiny, huge (overflowing to inf) and special values.
TEST(PowOp, SquareIsTheCorrectlyRoundedSquare) {
  std::vector<float> v = {4097.f, 1.000244140625f, -3.5f, -0.f, 0.f, 1e-30f, -1e-20f, 1e20f, 3e38f,
                          INFINITY, -INFINITY, NAN, 1.17549435e-38f};
  Tensor r = Random({1000}, 9);
  for (int64_t i = 0; i < r.numel(); ++i) v.push_back(r.data<float>()[i] * 1000.f);
  Tensor x = Tensor::FromFloats({(int64_t)v.size()}, v);
  std::vector<float> want;
  for (float f : v) want.push_back((float)((double)f * (double)f));
  for (const Tensor& e : {Tensor::Scalar(2.f), Tensor::FromInt64s({}, {2})}) {
    std::vector<Tensor> out;
    ASSERT_TRUE(CheckOp(OpCase("Pow").Inputs({x, e}), &out));
    for (size_t i = 0; i < v.size(); ++i) {
      const float a = out[0].data<float>()[i];
      if (std::isnan(want[i])) EXPECT_TRUE(std::isnan(a)) << v[i];
      else EXPECT_EQ(std::memcmp(&a, &want[i], 4), 0) << v[i] << " -> " << a << " vs " << want[i];
    }
  }
}

// x ^ 3 takes (x * x) * x, ONNX Runtime's formula, bit for bit; within an ulp of the exact cube
// (rounded once from double), with the signs, zeros, overflow and special values of pow.
TEST(PowOp, CubeIsTwoProductsWithinAnUlp) {
  std::vector<float> v = {3.f, -2.5f, -0.f, 0.f, 1e-20f, -1e-15f, 1e13f, -7e12f, INFINITY, -INFINITY, NAN};
  Tensor r = Random({1000}, 19);
  for (int64_t i = 0; i < r.numel(); ++i) v.push_back(r.data<float>()[i] * 30.f);
  Tensor x = Tensor::FromFloats({(int64_t)v.size()}, v);
  int differ = 0;
  for (const Tensor& e : {Tensor::Scalar(3.f), Tensor::FromInt64s({}, {3})}) {
    std::vector<Tensor> out;
    ASSERT_TRUE(CheckOp(OpCase("Pow").Inputs({x, e}), &out));
    for (size_t i = 0; i < v.size(); ++i) {
      const float a = out[0].data<float>()[i], two = (v[i] * v[i]) * v[i];
      const float exact = (float)std::pow((double)v[i], 3.0);
      if (std::isnan(exact)) {
        EXPECT_TRUE(std::isnan(a)) << v[i];
        continue;
      }
      EXPECT_EQ(std::memcmp(&a, &two, 4), 0) << v[i] << " -> " << a << " vs " << two;
      EXPECT_EQ(std::signbit(a), std::signbit(exact)) << v[i];
      if (std::isinf(exact)) EXPECT_EQ(a, exact) << v[i];
      else EXPECT_LE(std::fabs((double)a - exact), std::fabs((double)std::nextafter(exact, INFINITY) - exact)) << v[i];
      differ += a != exact;
    }
  }
  EXPECT_GT(differ, 0);  // really two roundings, not powf
}

}  // namespace
}  // namespace dopt
