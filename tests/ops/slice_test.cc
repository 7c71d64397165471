#include <climits>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(Slice, NegativeStepAndClampingAndOldAttrs) {
  Tensor x = Tensor::FromFloats({2, 5}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor st = Tensor::FromInt64s({1}, {INT64_MAX});
  Tensor en = Tensor::FromInt64s({1}, {INT64_MIN});
  Tensor ax = Tensor::FromInt64s({1}, {-1});
  Tensor sp = Tensor::FromInt64s({1}, {-2});
  EXPECT_TRUE(CheckOp(OpCase("Slice", 13).Inputs({x, st, en, ax, sp}).Expect(Tensor::FromFloats({2, 3}, {4, 2, 0, 9, 7, 5}))));
  // Opset 1 attributes.
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Slice", 1).Attr("starts", IntsAttr({1, -3})).Attr("ends", IntsAttr({2, 100})).Input(x), &out));
  EXPECT_EQ(Values<float>(out[0]), (std::vector<float>{7, 8, 9}));
  // Infer gives the exact shape from constants, and -1 for unknown dims.
  Tensor s2 = Tensor::FromInt64s({1}, {1});
  Tensor e2 = Tensor::FromInt64s({1}, {-1});
  auto inf = InferOp(OpCase("Slice", 13), {Info(DType::kInt8, {-1, 5}), Info(DType::kInt64, {1}, &s2),
                                          Info(DType::kInt64, {1}, &e2), Info(DType::kInt64, {1}, &ax)});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].shape, (Shape{-1, 3}));
  Tensor zero = Tensor::FromInt64s({1}, {0});
  EXPECT_FALSE(RunOp(OpCase("Slice", 13).Inputs({x, s2, e2, ax, zero})).ok());
}

}  // namespace
}  // namespace dopt
