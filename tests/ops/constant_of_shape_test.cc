#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(ConstantOfShape, FillsWithValueOfItsType) {
  Tensor s = Tensor::FromInt64s({2}, {2, 3});
  Tensor v = Tensor::FromInt64s({1}, {7});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("ConstantOfShape", 9).Attr("value", TensorAttr(v)).Input(s), &out));
  EXPECT_EQ(out[0].dtype(), DType::kInt64);
  EXPECT_EQ(out[0].ToInt64Vector(), std::vector<int64_t>(6, 7));
  ASSERT_TRUE(CheckOp(OpCase("ConstantOfShape", 9).Input(s), &out));
  EXPECT_EQ(out[0].dtype(), DType::kFloat32);
  Tensor two = Tensor::FromInt64s({2}, {1, 2});
  EXPECT_FALSE(RunOp(OpCase("ConstantOfShape", 9).Attr("value", TensorAttr(two)).Input(s)).ok());
}

}  // namespace
}  // namespace dopt
