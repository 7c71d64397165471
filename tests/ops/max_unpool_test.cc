#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(MaxUnpoolOp, SpecExamples) {
  // ONNX's examples: X [1, 1, 2, 2], I into a [1, 1, 4, 4] output.
  Tensor x = Tensor::FromFloats({1, 1, 2, 2}, {1, 2, 3, 4});
  Tensor i = Tensor::FromInt64s({1, 1, 2, 2}, {5, 7, 13, 15});
  OpCase c = OpCase("MaxUnpool").Attr("kernel_shape", IntsAttr({2, 2})).Attr("strides", IntsAttr({2, 2}));
  EXPECT_TRUE(CheckOp(OpCase(c).Inputs({x, i}).Expect(
      Tensor::FromFloats({1, 1, 4, 4}, {0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4}))));
  EXPECT_TRUE(CheckOp(OpCase(c).Inputs({x, i, Tensor::FromInt64s({4}, {1, 1, 5, 5})}).Expect(
      Tensor::FromFloats({1, 1, 5, 5}, {0, 0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0, 0}))));
  // Pads shrink the default shape: (2 - 1) * 2 + 2 - 1 - 0 = 3.
  EXPECT_TRUE(CheckOp(OpCase("MaxUnpool").Attr("kernel_shape", IntsAttr({2, 2})).Attr("strides", IntsAttr({2, 2}))
                          .Attr("pads", IntsAttr({1, 1, 0, 0})).Inputs({x, Tensor::FromInt64s({1, 1, 2, 2}, {0, 2, 6, 8})})
                          .Expect(Tensor::FromFloats({1, 1, 3, 3}, {1, 0, 2, 0, 0, 0, 3, 0, 4}))));
}

TEST(MaxUnpoolOp, InvertsMaxPoolIndices) {
  Tensor x = Random({2, 3, 8, 10}, 21);
  std::vector<Tensor> pooled;
  ASSERT_TRUE(CheckOp(OpCase("MaxPool").Attr("kernel_shape", IntsAttr({2, 2})).Attr("strides", IntsAttr({2, 2}))
                          .Input(x).Outputs(2), &pooled));
  auto ref = [&](const std::vector<Tensor>& in) {
    Tensor y(DType::kFloat32, x.shape());
    for (int64_t k = 0; k < in[0].numel(); ++k) y.data<float>()[in[1].data<int64_t>()[k]] = in[0].data<float>()[k];
    return std::vector<Tensor>{y};
  };
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("MaxUnpool").Attr("kernel_shape", IntsAttr({2, 2})).Attr("strides", IntsAttr({2, 2}))
                          .Inputs({pooled[0], pooled[1]}).Reference(ref, Tol::Exact()), &out));
  // Every nonzero output is x's value at that position.
  for (int64_t k = 0; k < x.numel(); ++k) {
    if (out[0].data<float>()[k] != 0) {
      EXPECT_EQ(out[0].data<float>()[k], x.data<float>()[k]);
    }
  }
  // 1-D, int8.
  EXPECT_TRUE(CheckOp(OpCase("MaxUnpool").Attr("kernel_shape", IntsAttr({3}))
                          .Inputs({Make<int8_t>(DType::kInt8, {1, 1, 2}, {-5, 7}), Tensor::FromInt64s({1, 1, 2}, {2, 3})})
                          .Expect(Make<int8_t>(DType::kInt8, {1, 1, 4}, {0, 0, -5, 7}))));
}

TEST(MaxUnpoolOp, ShapeRuleAndErrors) {
  OpCase c = OpCase("MaxUnpool").Attr("kernel_shape", IntsAttr({2, 2})).Attr("strides", IntsAttr({2, 2}));
  auto inf = InferOp(c, {Info(DType::kFloat32, {1, 3, -1, 4}), Info(DType::kInt64, {1, 3, -1, 4})});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].shape, (Shape{1, 3, -1, 8}));
  inf = InferOp(c, {Info(DType::kFloat32, {1, 3, 2, 4}), Info(DType::kInt64, {1, 3, 2, 4}), Info(DType::kInt64, {4})});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].shape, (Shape{-1, -1, -1, -1}));
  EXPECT_FALSE(InferOp(OpCase("MaxUnpool"), {Info(DType::kFloat32, {1, 3, 2, 4}), Info(DType::kInt64, {1, 3, 2, 4})}).ok());
  EXPECT_FALSE(InferOp(c, {Info(DType::kFloat32, {1, 3, 2, 4}), Info(DType::kInt32, {1, 3, 2, 4})}).ok());
  EXPECT_FALSE(InferOp(c, {Info(DType::kFloat32, {3, 2}), Info(DType::kInt64, {3, 2})}).ok());
  Tensor x = Tensor::FromFloats({1, 1, 1, 1}, {1});
  EXPECT_FALSE(RunOp(OpCase(c).Inputs({x, Tensor::FromInt64s({1, 1, 1, 1}, {4})})).ok());  // outside [0, 4)
  EXPECT_FALSE(RunOp(OpCase(c).Inputs({x, Tensor::FromInt64s({1, 1}, {0})})).ok());        // shape
  EXPECT_FALSE(RunOp(OpCase(c).Inputs({x, Tensor::FromInt64s({1, 1, 1, 1}, {0}), Tensor::FromInt64s({4}, {1, 1, 1, 2})})).ok());
}

}  // namespace
}  // namespace dopt
