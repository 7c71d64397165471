// DynamicQuantizeLinear against the spec's formulas written out in the test (float, round half
// to even), on the ONNX examples, ranges all positive / all negative / all zero, and random
// tensors split across threads.
#include <algorithm>
#include <cmath>

#include "check_op.h"

namespace dopt {
namespace {

using namespace optest;

std::vector<Tensor> RefDql(const std::vector<Tensor>& in) {
  const Tensor& x = in[0];
  float mx = 0.f, mn = 0.f;
  for (int64_t i = 0; i < x.numel(); ++i) {
    mx = std::max(mx, x.data<float>()[i]);
    mn = std::min(mn, x.data<float>()[i]);
  }
  const float scale = (mx == mn ? 1.f : mx - mn) / 255.f;
  const float zp = std::rint(std::clamp(-mn / scale, 0.f, 255.f));
  Tensor y(DType::kUInt8, x.shape());
  for (int64_t i = 0; i < x.numel(); ++i)
    y.data<uint8_t>()[i] = (uint8_t)std::clamp(std::rint(x.data<float>()[i] / scale) + zp, 0.f, 255.f);
  return {y, Tensor::FromFloats({}, {scale}), Make<uint8_t>(DType::kUInt8, {}, {(uint8_t)zp})};
}

TEST(DynamicQuantizeLinear, OnnxExamples) {
  Tensor x = Tensor::FromFloats({6}, {0, 2, -3, -2.5f, 1.34f, 0.5f});
  EXPECT_TRUE(CheckOp(OpCase("DynamicQuantizeLinear").Outputs(3).Input(x)
                          .Expect(0, Make<uint8_t>(DType::kUInt8, {6}, {153, 255, 0, 26, 221, 179}))
                          .Expect(1, Tensor::FromFloats({}, {0.019607844f}), Tol::Rel(1e-6))
                          .Expect(2, Make<uint8_t>(DType::kUInt8, {}, {153}))));
  Tensor pos = Tensor::FromFloats({6}, {1, 2.1f, 1.3f, 2.5f, 3.34f, 4});
  EXPECT_TRUE(CheckOp(OpCase("DynamicQuantizeLinear").Outputs(3).Input(pos)
                          .Expect(0, Make<uint8_t>(DType::kUInt8, {6}, {64, 134, 83, 159, 213, 255}))
                          .Expect(2, Make<uint8_t>(DType::kUInt8, {}, {0}))));
}

TEST(DynamicQuantizeLinear, RangesAndRandomMatchFormulas) {
  const std::vector<Tensor> xs = {
      Tensor::FromFloats({2, 3}, {-1, -2.1f, -1.3f, -2.5f, -3.34f, -4}),  // all negative: zero point 255
      Tensor::FromFloats({4}, {0, 0, 0, 0}),                              // all zero: scale 1/255
      Random({3, 4, 5}, 3, -0.7f, 2.3f),
      Random({70000}, 4, -5.f, 1.f),                                      // split across threads
  };
  for (const Tensor& x : xs)
    EXPECT_TRUE(CheckOp(OpCase("DynamicQuantizeLinear").Outputs(3).Input(x).Reference(RefDql, Tol::Exact())
                            .Label(ShapeToString(x.shape()))));
}

TEST(DynamicQuantizeLinear, Errors) {
  EXPECT_FALSE(InferOp(OpCase("DynamicQuantizeLinear").Outputs(3), {Info(DType::kUInt8, {3})}).ok());
  auto ok = InferOp(OpCase("DynamicQuantizeLinear").Outputs(3), {Info(DType::kFloat32, {-1, 3})});
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ((*ok)[0].dtype, DType::kUInt8);
  EXPECT_EQ((*ok)[1].dtype, DType::kFloat32);
  EXPECT_EQ((*ok)[1].shape, Shape{});
  EXPECT_EQ((*ok)[2].dtype, DType::kUInt8);
}

}  // namespace
}  // namespace dopt
