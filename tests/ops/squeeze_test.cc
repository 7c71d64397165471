#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(Squeeze, NoAxesRemovesAllOnesAndBadAxisFails) {
  Tensor x(DType::kBool, {1, 3, 1, 2});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Squeeze", 13).Input(x), &out));
  EXPECT_EQ(out[0].shape(), (Shape{3, 2}));
  EXPECT_TRUE(out[0].SharesStorageWith(x));
  Tensor axes = Tensor::FromInt64s({1}, {1});
  EXPECT_FALSE(RunOp(OpCase("Squeeze", 13).Inputs({x, axes})).ok());  // dim 1 has size 3
  ASSERT_TRUE(CheckOp(OpCase("Squeeze", 11).Attr("axes", IntsAttr({-2})).Input(x), &out));
  EXPECT_EQ(out[0].shape(), (Shape{1, 3, 2}));
}

}  // namespace
}  // namespace dopt
