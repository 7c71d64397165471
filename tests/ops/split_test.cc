#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(Split, Opset18NumOutputsUnevenAndBadSplit) {
  Tensor x = Tensor::FromInt64s({5}, {0, 1, 2, 3, 4});
  EXPECT_TRUE(CheckOp(OpCase("Split", 18).Attr("num_outputs", IntAttr(2)).Input(x).Outputs(2)
                          .Expect(0, Tensor::FromInt64s({3}, {0, 1, 2}))
                          .Expect(1, Tensor::FromInt64s({2}, {3, 4}))));
  Tensor s = Tensor::FromInt64s({2}, {1, 3});
  EXPECT_FALSE(RunOp(OpCase("Split", 13).Inputs({x, s}).Outputs(2)).ok());  // sums to 4, not 5
  std::vector<Tensor> o11;
  ASSERT_TRUE(CheckOp(OpCase("Split", 11).Attr("split", IntsAttr({4, 1})).Input(x).Outputs(2), &o11));
  EXPECT_EQ(o11[1].ToInt64Vector(), (std::vector<int64_t>{4}));
}

}  // namespace
}  // namespace dopt
