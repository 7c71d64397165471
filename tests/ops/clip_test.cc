#include <cmath>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(Clip, OldOpsetAttributes) {
  Tensor x = Tensor::FromFloats({5}, {-3.f, -1.f, 0.5f, 2.f, 7.f});
  EXPECT_TRUE(CheckOp(OpCase("Clip", 6).Attr("min", FloatAttr(-1.f)).Attr("max", FloatAttr(2.f)).Input(x)
                          .Expect(Tensor::FromFloats({5}, {-1.f, -1.f, 0.5f, 2.f, 2.f}))));
}

TEST(Clip, OmittedMinInputAndNaN) {
  Tensor x = Tensor::FromFloats({4}, {-1e30f, 0.f, 5.f, NAN});
  Tensor hi = Tensor::FromFloats({}, {1.f});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Clip", 13).Input(x).Omitted().Input(hi), &out));
  auto y = Values<float>(out[0]);
  EXPECT_EQ(y[0], -1e30f);
  EXPECT_EQ(y[1], 0.f);
  EXPECT_EQ(y[2], 1.f);
  EXPECT_TRUE(std::isnan(y[3]));
}

TEST(Clip, Int8AndMinAboveMax) {
  Tensor x = Make<int8_t>(DType::kInt8, {4}, {-128, -5, 5, 127});
  Tensor lo = Make<int8_t>(DType::kInt8, {}, {-10});
  Tensor hi = Make<int8_t>(DType::kInt8, {}, {3});
  EXPECT_TRUE(CheckOp(OpCase("Clip").Inputs({x, lo, hi}).Expect(Make<int8_t>(DType::kInt8, {4}, {-10, -5, 3, 3}))));
  Tensor lo2 = Make<int8_t>(DType::kInt8, {}, {4});
  Tensor hi2 = Make<int8_t>(DType::kInt8, {}, {2});
  EXPECT_TRUE(CheckOp(OpCase("Clip").Inputs({x, lo2, hi2}).Expect(Make<int8_t>(DType::kInt8, {4}, {2, 2, 2, 2}))));
}

// A tensor split across threads, with both bounds and with one of them omitted.
TEST(Clip, LargeInputMatchesMinMax) {
  Tensor x = Random({3, 11003}, 8, -4.f, 4.f);
  for (int which = 0; which < 3; ++which) {
    const float lo = which == 1 ? -INFINITY : -1.5f, hi = which == 2 ? INFINITY : 0.75f;
    OpCase c = OpCase("Clip").Input(x);
    if (which == 1) c.Omitted();
    else c.Input(Tensor::Scalar(lo));
    if (which != 2) c.Input(Tensor::Scalar(hi));
    auto ref = [&](const std::vector<Tensor>& in) {
      Tensor y(DType::kFloat32, in[0].shape());
      for (int64_t i = 0; i < y.numel(); ++i) y.data<float>()[i] = std::min(hi, std::max(lo, in[0].data<float>()[i]));
      return std::vector<Tensor>{y};
    };
    EXPECT_TRUE(CheckOp(c.Reference(ref, Tol::Exact()).Label("bounds " + std::to_string(which))));
  }
}

TEST(Clip, RejectsNonScalarBoundsAndMixedTypes) {
  OpCase c("Clip");
  EXPECT_FALSE(InferOp(c, {Info(DType::kFloat32, {4}), Info(DType::kFloat32, {2}), Info(DType::kFloat32, {})}).ok());
  EXPECT_FALSE(InferOp(c, {Info(DType::kFloat32, {4}), Info(DType::kInt8, {}), Info(DType::kFloat32, {})}).ok());
  EXPECT_FALSE(InferOp(c, {Info(DType::kBool, {4}), Info(DType::kBool, {}), Info(DType::kBool, {})}).ok());
}

}  // namespace
}  // namespace dopt
