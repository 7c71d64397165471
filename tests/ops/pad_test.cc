#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(Pad, ReflectEdgeConstantAndCrop) {
  Tensor x = Tensor::FromFloats({1, 3}, {1, 2, 3});
  Tensor pads = Tensor::FromInt64s({4}, {0, 2, 0, 2});
  EXPECT_TRUE(CheckOp(OpCase("Pad", 13).Attr("mode", StringAttr("reflect")).Inputs({x, pads})
                          .Expect(Tensor::FromFloats({1, 7}, {3, 2, 1, 2, 3, 2, 1}))));
  EXPECT_TRUE(CheckOp(OpCase("Pad", 13).Attr("mode", StringAttr("edge")).Inputs({x, pads})
                          .Expect(Tensor::FromFloats({1, 7}, {1, 1, 1, 2, 3, 3, 3}))));
  Tensor cv = Tensor::Scalar(9.f);
  Tensor crop = Tensor::FromInt64s({4}, {1, -1, 0, 1});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Pad", 13).Inputs({x, crop, cv}), &out));
  EXPECT_EQ(out[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(Values<float>(out[0]), (std::vector<float>{9, 9, 9, 2, 3, 9}));
  // Opset 2 attributes on int8 data.
  Tensor xi = x.CastTo(DType::kInt8);
  ASSERT_TRUE(CheckOp(OpCase("Pad", 2).Attr("pads", IntsAttr({0, 1, 0, 0})).Attr("value", FloatAttr(-3.f)).Input(xi), &out));
  EXPECT_EQ(out[0].ToInt64Vector(), (std::vector<int64_t>{-3, 1, 2, 3}));
  Tensor too_much = Tensor::FromInt64s({4}, {0, -2, 0, -2});
  EXPECT_FALSE(RunOp(OpCase("Pad", 13).Inputs({x, too_much})).ok());
}

}  // namespace
}  // namespace dopt
