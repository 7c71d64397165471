#include "shape_ops_test_util.h"

namespace dopt {
namespace {
using namespace shape_ops_test;

TEST(Pad, ReflectEdgeConstantAndCrop) {
  Tensor x = Tensor::FromFloats({1, 3}, {1, 2, 3});
  Tensor pads = Tensor::FromInt64s({4}, {0, 2, 0, 2});
  auto out = RunOp(MakeNode("Pad", 13, {AStr("mode", "reflect")}), {&x, &pads});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(Floats((*out)[0]), (std::vector<float>{3, 2, 1, 2, 3, 2, 1}));
  out = RunOp(MakeNode("Pad", 13, {AStr("mode", "edge")}), {&x, &pads});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Floats((*out)[0]), (std::vector<float>{1, 1, 1, 2, 3, 3, 3}));
  Tensor cv = Tensor::Scalar(9.f);
  Tensor crop = Tensor::FromInt64s({4}, {1, -1, 0, 1});
  out = RunOp(MakeNode("Pad", 13), {&x, &crop, &cv});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(Floats((*out)[0]), (std::vector<float>{9, 9, 9, 2, 3, 9}));
  // Opset 2 attributes on int8 data.
  Tensor xi = x.CastTo(DType::kInt8);
  out = RunOp(MakeNode("Pad", 2, {AInts("pads", {0, 1, 0, 0}), AFloat("value", -3.f)}), {&xi});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].ToInt64Vector(), (std::vector<int64_t>{-3, 1, 2, 3}));
  Tensor too_much = Tensor::FromInt64s({4}, {0, -2, 0, -2});
  EXPECT_FALSE(RunOp(MakeNode("Pad", 13), {&x, &too_much}).ok());
}

}  // namespace
}  // namespace dopt
