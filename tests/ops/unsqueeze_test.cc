#include "shape_ops_test_util.h"

namespace dopt {
namespace {
using namespace shape_ops_test;

TEST(Unsqueeze, AxesAreOutputPositions) {
  Tensor x(DType::kInt64, {3, 4});
  Tensor axes = Tensor::FromInt64s({2}, {-1, 0});
  auto out = RunOp(MakeNode("Unsqueeze", 13), {&x, &axes});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].shape(), (Shape{1, 3, 4, 1}));
  auto o1 = RunOp(MakeNode("Unsqueeze", 11, {AInts("axes", {1})}), {&x});
  ASSERT_TRUE(o1.ok());
  EXPECT_EQ((*o1)[0].shape(), (Shape{3, 1, 4}));
  Tensor dup = Tensor::FromInt64s({2}, {1, 1});
  EXPECT_FALSE(RunOp(MakeNode("Unsqueeze", 13), {&x, &dup}).ok());
}

}  // namespace
}  // namespace dopt
