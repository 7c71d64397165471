#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(ReduceMean, MiddleAxisAndEmptyAxesModes) {
  Tensor x = Tensor::FromFloats({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  EXPECT_TRUE(CheckOp(OpCase("ReduceMean", 13).Attr("axes", IntsAttr({1})).Attr("keepdims", IntAttr(0)).Input(x)
                          .Expect(Tensor::FromFloats({2, 2}, {2, 3, 6, 7}))));
  // all axes, keepdims
  EXPECT_TRUE(CheckOp(OpCase("ReduceMean", 13).Input(x).Expect(Tensor::FromFloats({1, 1, 1}, {4.5f}))));
  Tensor empty(DType::kInt64, {0});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("ReduceMean", 18).Attr("noop_with_empty_axes", IntAttr(1)).Inputs({x, empty}), &out));
  EXPECT_EQ(out[0].shape(), (Shape{2, 2, 2}));
  EXPECT_FALSE(InferOp(OpCase("ReduceMean", 13), {Info(DType::kInt64, {2})}).ok());
}

}  // namespace
}  // namespace dopt
