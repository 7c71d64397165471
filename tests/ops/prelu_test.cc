#include "elem_op_test_util.h"

namespace dopt {
namespace {
using namespace elemtest;

// x of shape [1, 2, 1, 3]: channel 0 = {-1, 2, -3}, channel 1 = {-4, 5, -6}.
Tensor X() { return F({1, 2, 1, 3}, {-1.f, 2.f, -3.f, -4.f, 5.f, -6.f}); }
const std::vector<float> kPerChannel = {-0.1f, 2.f, -0.3f, -2.f, 5.f, -3.f};  // slopes .1, .5

TEST(PRelu, PerChannelSlopeShapes) {
  Node n = MakeNode("PRelu", 2, 1, {}, 9);
  Tensor x = X();
  Tensor s3 = F({2, 1, 1}, {0.1f, 0.5f});
  auto out = RunNode(n, {&x, &s3});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(Values<float>((*out)[0]), kPerChannel);
  // Old-style [C] slope, which does not broadcast numpy-style against [.., 3].
  Tensor s1 = F({2}, {0.1f, 0.5f});
  auto out1 = RunNode(n, {&x, &s1});
  ASSERT_TRUE(out1.ok()) << out1.status().message();
  EXPECT_EQ(Values<float>((*out1)[0]), kPerChannel);
  EXPECT_TRUE(InferNode(n, {Info(DType::kFloat32, {1, 2, 1, 3}), Info(DType::kFloat32, {2})}).ok());
}

TEST(PRelu, NumpyBroadcastAndScalar) {
  Node n = MakeNode("PRelu", 2, 1, {}, 16);
  Tensor x = X();
  Tensor s = F({3}, {1.f, 2.f, 3.f});  // along the last dim
  auto out = RunNode(n, {&x, &s});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(Values<float>((*out)[0]), (std::vector<float>{-1.f, 2.f, -9.f, -4.f, 5.f, -18.f}));
  Tensor one = F({1}, {0.25f});
  auto out2 = RunNode(n, {&x, &one});
  ASSERT_TRUE(out2.ok());
  EXPECT_EQ(Values<float>((*out2)[0]), (std::vector<float>{-0.25f, 2.f, -0.75f, -1.f, 5.f, -1.5f}));
}

TEST(PRelu, RejectsSlopeThatGrowsTheOutput) {
  Node n = MakeNode("PRelu", 2, 1, {}, 16);
  Tensor x = F({3}, {1.f, -1.f, 2.f});
  Tensor s = F({2, 3}, {1, 1, 1, 1, 1, 1});
  EXPECT_FALSE(RunNode(n, {&x, &s}).ok());
  EXPECT_FALSE(InferNode(n, {Info(DType::kFloat32, {4, 5}), Info(DType::kFloat32, {3})}).ok());
}

}  // namespace
}  // namespace dopt
