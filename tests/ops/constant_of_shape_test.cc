#include "shape_ops_test_util.h"

namespace dopt {
namespace {
using namespace shape_ops_test;

TEST(ConstantOfShape, FillsWithValueOfItsType) {
  Tensor s = Tensor::FromInt64s({2}, {2, 3});
  Tensor v = Tensor::FromInt64s({1}, {7});
  auto out = RunOp(MakeNode("ConstantOfShape", 9, {ATensor("value", v)}), {&s});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].dtype(), DType::kInt64);
  EXPECT_EQ((*out)[0].ToInt64Vector(), std::vector<int64_t>(6, 7));
  auto def = RunOp(MakeNode("ConstantOfShape", 9), {&s});
  ASSERT_TRUE(def.ok());
  EXPECT_EQ((*def)[0].dtype(), DType::kFloat32);
  Tensor two = Tensor::FromInt64s({2}, {1, 2});
  EXPECT_FALSE(RunOp(MakeNode("ConstantOfShape", 9, {ATensor("value", two)}), {&s}).ok());
}

}  // namespace
}  // namespace dopt
