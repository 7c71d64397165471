#include "shape_ops_test_util.h"

#include <cmath>

namespace dopt {
namespace {
using namespace shape_ops_test;

TEST(ReduceSum, AxesInputKeepdimsAndNoop) {
  Tensor x = Tensor::FromFloats({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  Tensor ax = Tensor::FromInt64s({2}, {0, -1});
  auto out = RunOp(MakeNode("ReduceSum", 13, {AInt("keepdims", 0)}), {&x, &ax});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].shape(), (Shape{2}));
  EXPECT_EQ(Floats((*out)[0]), (std::vector<float>{1 + 2 + 5 + 6, 3 + 4 + 7 + 8}));
  out = RunOp(MakeNode("ReduceSum", 13), {&x});  // all axes, keepdims
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].shape(), (Shape{1, 1, 1}));
  EXPECT_EQ(Floats((*out)[0]), (std::vector<float>{36}));
  Tensor empty(DType::kInt64, {0});
  out = RunOp(MakeNode("ReduceSum", 13, {AInt("noop_with_empty_axes", 1)}), {&x, &empty});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Floats((*out)[0]), Floats(x));
  EXPECT_FALSE(InferOp(MakeNode("ReduceSum", 13), {Info(DType::kInt64, {2})}).ok());
}

TEST(ReduceMax, MiddleAxisNegativesAndNan) {
  Tensor x = Tensor::FromFloats({2, 3}, {-5, -2, -9, 4, NAN, 1});
  Tensor ax = Tensor::FromInt64s({1}, {1});
  auto out = RunOp(MakeNode("ReduceMax", 18, {AInt("keepdims", 1)}), {&x, &ax});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].shape(), (Shape{2, 1}));
  EXPECT_EQ((*out)[0].data<float>()[0], -2.f);
  EXPECT_TRUE(std::isnan((*out)[0].data<float>()[1]));
  Tensor bad = Tensor::FromInt64s({1}, {2});
  EXPECT_FALSE(RunOp(MakeNode("ReduceMax", 18), {&x, &bad}).ok());
}

}  // namespace
}  // namespace dopt
