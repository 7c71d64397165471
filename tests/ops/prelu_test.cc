#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

// x of shape [1, 2, 1, 3]: channel 0 = {-1, 2, -3}, channel 1 = {-4, 5, -6}.
Tensor X() { return Tensor::FromFloats({1, 2, 1, 3}, {-1.f, 2.f, -3.f, -4.f, 5.f, -6.f}); }
const std::vector<float> kPerChannel = {-0.1f, 2.f, -0.3f, -2.f, 5.f, -3.f};  // slopes .1, .5

TEST(PRelu, PerChannelSlopeShapes) {
  Tensor x = X();
  Tensor s3 = Tensor::FromFloats({2, 1, 1}, {0.1f, 0.5f});
  EXPECT_TRUE(CheckOp(OpCase("PRelu", 9).Inputs({x, s3}).Expect(Tensor::FromFloats(x.shape(), kPerChannel))));
  // Old-style [C] slope, which does not broadcast numpy-style against [.., 3].
  Tensor s1 = Tensor::FromFloats({2}, {0.1f, 0.5f});
  EXPECT_TRUE(CheckOp(OpCase("PRelu", 9).Inputs({x, s1}).Expect(Tensor::FromFloats(x.shape(), kPerChannel))));
  EXPECT_TRUE(InferOp(OpCase("PRelu", 9), {Info(DType::kFloat32, {1, 2, 1, 3}), Info(DType::kFloat32, {2})}).ok());
}

TEST(PRelu, NumpyBroadcastAndScalar) {
  Tensor x = X();
  Tensor s = Tensor::FromFloats({3}, {1.f, 2.f, 3.f});  // along the last dim
  EXPECT_TRUE(CheckOp(OpCase("PRelu", 16).Inputs({x, s})
                          .Expect(Tensor::FromFloats(x.shape(), {-1.f, 2.f, -9.f, -4.f, 5.f, -18.f}))));
  Tensor one = Tensor::FromFloats({1}, {0.25f});
  EXPECT_TRUE(CheckOp(OpCase("PRelu", 16).Inputs({x, one})
                          .Expect(Tensor::FromFloats(x.shape(), {-0.25f, 2.f, -0.75f, -1.f, 5.f, -1.5f}))));
}

TEST(PRelu, RejectsSlopeThatGrowsTheOutput) {
  Tensor x = Tensor::FromFloats({3}, {1.f, -1.f, 2.f});
  Tensor s = Tensor::FromFloats({2, 3}, {1, 1, 1, 1, 1, 1});
  EXPECT_FALSE(RunOp(OpCase("PRelu", 16).Inputs({x, s})).ok());
  EXPECT_FALSE(InferOp(OpCase("PRelu", 16), {Info(DType::kFloat32, {4, 5}), Info(DType::kFloat32, {3})}).ok());
}

}  // namespace
}  // namespace dopt
