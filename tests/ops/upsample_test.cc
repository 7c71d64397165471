#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(Upsample, Opset7AttrNearestAndOpset9LinearAsymmetric) {
  Tensor x = Tensor::FromFloats({1, 1, 1, 2}, {1, 3});
  EXPECT_TRUE(CheckOp(OpCase("Upsample", 7).Attr("scales", FloatsAttr({1, 1, 2, 2})).Input(x)
                          .Expect(Tensor::FromFloats({1, 1, 2, 4}, {1, 1, 3, 3, 1, 1, 3, 3}))));
  Tensor s = Tensor::FromFloats({4}, {1, 1, 1, 2});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Upsample", 9).Attr("mode", StringAttr("linear")).Inputs({x, s}), &out));
  EXPECT_EQ(Values<float>(out[0]), (std::vector<float>{1, 2, 3, 3}));
  Tensor bad = Tensor::FromFloats({2}, {1, 2});
  EXPECT_FALSE(RunOp(OpCase("Upsample", 9).Inputs({x, bad})).ok());
}

}  // namespace
}  // namespace dopt
