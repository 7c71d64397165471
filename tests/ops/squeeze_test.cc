#include "shape_ops_test_util.h"

namespace dopt {
namespace {
using namespace shape_ops_test;

TEST(Squeeze, NoAxesRemovesAllOnesAndBadAxisFails) {
  Tensor x(DType::kBool, {1, 3, 1, 2});
  auto out = RunOp(MakeNode("Squeeze", 13), {&x});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].shape(), (Shape{3, 2}));
  EXPECT_TRUE((*out)[0].SharesStorageWith(x));
  Tensor axes = Tensor::FromInt64s({1}, {1});
  EXPECT_FALSE(RunOp(MakeNode("Squeeze", 13), {&x, &axes}).ok());  // dim 1 has size 3
  auto o11 = RunOp(MakeNode("Squeeze", 11, {AInts("axes", {-2})}), {&x});
  ASSERT_TRUE(o11.ok());
  EXPECT_EQ((*o11)[0].shape(), (Shape{1, 3, 2}));
}

}  // namespace
}  // namespace dopt
