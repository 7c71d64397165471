#include "shape_ops_test_util.h"

namespace dopt {
namespace {
using namespace shape_ops_test;

TEST(Split, Opset18NumOutputsUnevenAndBadSplit) {
  Tensor x = Tensor::FromInt64s({5}, {0, 1, 2, 3, 4});
  auto out = RunOp(MakeNode("Split", 18, {AInt("num_outputs", 2)}), {&x}, 2);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].ToInt64Vector(), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ((*out)[1].ToInt64Vector(), (std::vector<int64_t>{3, 4}));
  Tensor s = Tensor::FromInt64s({2}, {1, 3});
  EXPECT_FALSE(RunOp(MakeNode("Split", 13), {&x, &s}, 2).ok());  // sums to 4, not 5
  auto o11 = RunOp(MakeNode("Split", 11, {AInts("split", {4, 1})}), {&x}, 2);
  ASSERT_TRUE(o11.ok());
  EXPECT_EQ((*o11)[1].ToInt64Vector(), (std::vector<int64_t>{4}));
}

}  // namespace
}  // namespace dopt
