#include "shape_ops_test_util.h"

namespace dopt {
namespace {
using namespace shape_ops_test;

TEST(Flatten, AxisZeroAndRankAxis) {
  Tensor x(DType::kUInt8, {2, 3, 4});
  auto out = RunOp(MakeNode("Flatten", 13, {AInt("axis", 0)}), {&x});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].shape(), (Shape{1, 24}));
  out = RunOp(MakeNode("Flatten", 13, {AInt("axis", 3)}), {&x});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].shape(), (Shape{24, 1}));
  EXPECT_FALSE(RunOp(MakeNode("Flatten", 13, {AInt("axis", 4)}), {&x}).ok());
  auto inf = InferOp(MakeNode("Flatten", 13), {Info(DType::kFloat32, {-1, 3, 4})});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].shape, (Shape{-1, 12}));
}

}  // namespace
}  // namespace dopt
