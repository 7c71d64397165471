#include <cmath>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(ReduceSum, AxesInputKeepdimsAndNoop) {
  Tensor x = Tensor::FromFloats({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  Tensor ax = Tensor::FromInt64s({2}, {0, -1});
  EXPECT_TRUE(CheckOp(OpCase("ReduceSum", 13).Attr("keepdims", IntAttr(0)).Inputs({x, ax})
                          .Expect(Tensor::FromFloats({2}, {1 + 2 + 5 + 6, 3 + 4 + 7 + 8}))));
  // all axes, keepdims
  EXPECT_TRUE(CheckOp(OpCase("ReduceSum", 13).Input(x).Expect(Tensor::FromFloats({1, 1, 1}, {36}))));
  Tensor empty(DType::kInt64, {0});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("ReduceSum", 13).Attr("noop_with_empty_axes", IntAttr(1)).Inputs({x, empty}), &out));
  EXPECT_EQ(Values<float>(out[0]), Values<float>(x));
  EXPECT_FALSE(InferOp(OpCase("ReduceSum", 13), {Info(DType::kInt64, {2})}).ok());
}

TEST(ReduceMax, MiddleAxisNegativesAndNan) {
  Tensor x = Tensor::FromFloats({2, 3}, {-5, -2, -9, 4, NAN, 1});
  Tensor ax = Tensor::FromInt64s({1}, {1});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("ReduceMax", 18).Attr("keepdims", IntAttr(1)).Inputs({x, ax}), &out));
  EXPECT_EQ(out[0].shape(), (Shape{2, 1}));
  EXPECT_EQ(out[0].data<float>()[0], -2.f);
  EXPECT_TRUE(std::isnan(out[0].data<float>()[1]));
  Tensor bad = Tensor::FromInt64s({1}, {2});
  EXPECT_FALSE(RunOp(OpCase("ReduceMax", 18).Inputs({x, bad})).ok());
}

}  // namespace
}  // namespace dopt
