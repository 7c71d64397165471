#include "shape_ops_test_util.h"

namespace dopt {
namespace {
using namespace shape_ops_test;

TEST(Upsample, Opset7AttrNearestAndOpset9LinearAsymmetric) {
  Tensor x = Tensor::FromFloats({1, 1, 1, 2}, {1, 3});
  auto out = RunOp(MakeNode("Upsample", 7, {AFloats("scales", {1, 1, 2, 2})}), {&x});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].shape(), (Shape{1, 1, 2, 4}));
  EXPECT_EQ(Floats((*out)[0]), (std::vector<float>{1, 1, 3, 3, 1, 1, 3, 3}));
  Tensor s = Tensor::FromFloats({4}, {1, 1, 1, 2});
  out = RunOp(MakeNode("Upsample", 9, {AStr("mode", "linear")}), {&x, &s});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Floats((*out)[0]), (std::vector<float>{1, 2, 3, 3}));
  Tensor bad = Tensor::FromFloats({2}, {1, 2});
  EXPECT_FALSE(RunOp(MakeNode("Upsample", 9), {&x, &bad}).ok());
}

}  // namespace
}  // namespace dopt
