#include "shape_ops_test_util.h"

namespace dopt {
namespace {
using namespace shape_ops_test;

TEST(Gather, ScalarNegativeIndexDropsAxis) {
  Tensor x = Tensor::FromFloats({2, 3}, {0, 1, 2, 3, 4, 5});
  Tensor i = Tensor::FromInt64s({}, {-1});
  auto out = RunOp(MakeNode("Gather", 13, {AInt("axis", 1)}), {&x, &i});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].shape(), (Shape{2}));
  EXPECT_EQ(Floats((*out)[0]), (std::vector<float>{2, 5}));
  Tensor i32 = Tensor::FromInt64s({2}, {1, 0}).CastTo(DType::kInt32);
  out = RunOp(MakeNode("Gather", 13), {&x, &i32});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Floats((*out)[0]), (std::vector<float>{3, 4, 5, 0, 1, 2}));
  Tensor bad = Tensor::FromInt64s({1}, {2});
  EXPECT_FALSE(RunOp(MakeNode("Gather", 13), {&x, &bad}).ok());
}

}  // namespace
}  // namespace dopt
