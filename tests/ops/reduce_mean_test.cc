#include "shape_ops_test_util.h"

namespace dopt {
namespace {
using namespace shape_ops_test;

TEST(ReduceMean, MiddleAxisAndEmptyAxesModes) {
  Tensor x = Tensor::FromFloats({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  auto out = RunOp(MakeNode("ReduceMean", 13, {AInts("axes", {1}), AInt("keepdims", 0)}), {&x});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(Floats((*out)[0]), (std::vector<float>{2, 3, 6, 7}));
  out = RunOp(MakeNode("ReduceMean", 13), {&x});  // all axes, keepdims
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].shape(), (Shape{1, 1, 1}));
  EXPECT_EQ(Floats((*out)[0]), (std::vector<float>{4.5f}));
  Tensor empty(DType::kInt64, {0});
  out = RunOp(MakeNode("ReduceMean", 18, {AInt("noop_with_empty_axes", 1)}), {&x, &empty});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].shape(), (Shape{2, 2, 2}));
  EXPECT_FALSE(InferOp(MakeNode("ReduceMean", 13), {Info(DType::kInt64, {2})}).ok());
}

}  // namespace
}  // namespace dopt
