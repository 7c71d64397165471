#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(Unsqueeze, AxesAreOutputPositions) {
  Tensor x(DType::kInt64, {3, 4});
  Tensor axes = Tensor::FromInt64s({2}, {-1, 0});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Unsqueeze", 13).Inputs({x, axes}), &out));
  EXPECT_EQ(out[0].shape(), (Shape{1, 3, 4, 1}));
  ASSERT_TRUE(CheckOp(OpCase("Unsqueeze", 11).Attr("axes", IntsAttr({1})).Input(x), &out));
  EXPECT_EQ(out[0].shape(), (Shape{3, 1, 4}));
  Tensor dup = Tensor::FromInt64s({2}, {1, 1});
  EXPECT_FALSE(RunOp(OpCase("Unsqueeze", 13).Inputs({x, dup})).ok());
}

}  // namespace
}  // namespace dopt
