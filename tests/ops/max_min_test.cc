#include <cmath>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(MaxMin, ThreeInputsBroadcast) {
  Tensor a = Tensor::FromFloats({2, 2}, {1.f, 5.f, -3.f, 0.f});
  Tensor b = Tensor::FromFloats({2}, {2.f, -1.f});
  Tensor c = Tensor::FromFloats({}, {0.5f});
  EXPECT_TRUE(CheckOp(OpCase("Max").Inputs({a, b, c}).Expect(Tensor::FromFloats({2, 2}, {2.f, 5.f, 2.f, 0.5f}))));
  EXPECT_TRUE(CheckOp(OpCase("Min").Inputs({a, b, c}).Expect(Tensor::FromFloats({2, 2}, {0.5f, -1.f, -3.f, -1.f}))));
  auto info = InferOp(OpCase("Max"), {Info(DType::kFloat32, {-1, 2}), Info(DType::kFloat32, {2}), Info(DType::kFloat32, {})});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*info)[0].shape, (Shape{-1, 2}));
}

TEST(MaxMin, IntTypesSingleInputAndNaN) {
  Tensor a = Make<int64_t>(DType::kInt64, {3}, {INT64_MIN, 4, 9});
  Tensor b = Make<int64_t>(DType::kInt64, {3}, {0, INT64_MAX, -9});
  EXPECT_TRUE(CheckOp(OpCase("Max").Inputs({a, b}).Expect(Make<int64_t>(DType::kInt64, {3}, {0, INT64_MAX, 9}))));
  std::vector<Tensor> one;
  ASSERT_TRUE(CheckOp(OpCase("Min").Input(a), &one));
  EXPECT_TRUE(one[0].SharesStorageWith(a));
  Tensor f = Tensor::FromFloats({2}, {NAN, 1.f});
  Tensor g = Tensor::FromFloats({2}, {0.f, NAN});
  std::vector<Tensor> n;
  ASSERT_TRUE(CheckOp(OpCase("Min").Inputs({f, g}), &n));
  EXPECT_TRUE(std::isnan(Values<float>(n[0])[0]));
  EXPECT_TRUE(std::isnan(Values<float>(n[0])[1]));
}

TEST(MaxMin, RejectsMixedTypes) {
  EXPECT_FALSE(InferOp(OpCase("Max"), {Info(DType::kFloat32, {2}), Info(DType::kInt32, {2})}).ok());
  EXPECT_FALSE(InferOp(OpCase("Max"), {Info(DType::kFloat32, {2}), Info(DType::kFloat32, {3})}).ok());
  Tensor a = Tensor::FromFloats({1}, {1.f});
  Tensor b = Make<int32_t>(DType::kInt32, {1}, {1});
  EXPECT_FALSE(RunOp(OpCase("Max").Inputs({a, b})).ok());
}

}  // namespace
}  // namespace dopt
