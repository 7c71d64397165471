#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(Gather, ScalarNegativeIndexDropsAxis) {
  Tensor x = Tensor::FromFloats({2, 3}, {0, 1, 2, 3, 4, 5});
  Tensor i = Tensor::FromInt64s({}, {-1});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Gather", 13).Attr("axis", IntAttr(1)).Inputs({x, i}), &out));
  EXPECT_EQ(out[0].shape(), (Shape{2}));
  EXPECT_EQ(Values<float>(out[0]), (std::vector<float>{2, 5}));
  Tensor i32 = Tensor::FromInt64s({2}, {1, 0}).CastTo(DType::kInt32);
  ASSERT_TRUE(CheckOp(OpCase("Gather", 13).Inputs({x, i32}), &out));
  EXPECT_EQ(Values<float>(out[0]), (std::vector<float>{3, 4, 5, 0, 1, 2}));
  Tensor bad = Tensor::FromInt64s({1}, {2});
  EXPECT_FALSE(RunOp(OpCase("Gather", 13).Inputs({x, bad})).ok());
}

}  // namespace
}  // namespace dopt
