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

// A shape input known only by its declared length: that many unknown dims, up to a plausible
// rank; a malformed length (the onnx_loader fuzzer's 2^44) leaves the rank unknown instead of
// allocating it. The same for Expand and ConstantOfShape.
TEST(Reshape, DeclaredShapeLengthGivesTheRankWithinReason) {
  auto inf = InferOp(OpCase("Reshape", 14), {Info(DType::kFloat32, {4, 5}), Info(DType::kInt64, {3})});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].shape, (Shape{-1, -1, -1}));
  const int64_t huge = int64_t{1} << 44;
  inf = InferOp(OpCase("Reshape", 14), {Info(DType::kFloat32, {4, 5}), Info(DType::kInt64, {huge})});
  ASSERT_TRUE(inf.ok());
  EXPECT_FALSE((*inf)[0].rank_known);
  inf = InferOp(OpCase("Expand"), {Info(DType::kFloat32, {4, 5}), Info(DType::kInt64, {huge})});
  ASSERT_TRUE(inf.ok());
  EXPECT_FALSE((*inf)[0].rank_known);
  inf = InferOp(OpCase("ConstantOfShape"), {Info(DType::kInt64, {huge})});
  ASSERT_TRUE(inf.ok());
  EXPECT_FALSE((*inf)[0].rank_known);
}

}  // namespace
}  // namespace dopt
