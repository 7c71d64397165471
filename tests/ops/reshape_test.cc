#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(Reshape, ZeroCopiesDimAndMinusOneInfersWithoutCopy) {
  Tensor x = Tensor::FromFloats({2, 3, 4}, std::vector<float>(24, 1.f));
  Tensor s = Tensor::FromInt64s({2}, {0, -1});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Reshape", 14).Inputs({x, s}), &out));
  EXPECT_EQ(out[0].shape(), (Shape{2, 12}));
  EXPECT_TRUE(out[0].SharesStorageWith(x));
}

TEST(Reshape, InferUsesConstantShapeAndRejectsBadCount) {
  Tensor s = Tensor::FromInt64s({2}, {-1, 5});
  auto inf = InferOp(OpCase("Reshape", 14), {Info(DType::kInt8, {4, 5}), Info(DType::kInt64, {2}, &s)});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].shape, (Shape{4, 5}));
  EXPECT_EQ((*inf)[0].dtype, DType::kInt8);
  Tensor bad = Tensor::FromInt64s({2}, {3, 3});
  EXPECT_FALSE(InferOp(OpCase("Reshape", 14), {Info(DType::kInt8, {4, 5}), Info(DType::kInt64, {2}, &bad)}).ok());
  // Unknown input dim: -1 stays unknown, rank is known.
  inf = InferOp(OpCase("Reshape", 14), {Info(DType::kFloat32, {-1, 5}), Info(DType::kInt64, {2}, &s)});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].shape, (Shape{-1, 5}));
}

}  // namespace
}  // namespace dopt
