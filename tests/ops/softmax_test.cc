#include <cmath>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

// x of shape [2, 3, 2] with values 0..11.
Tensor X() {
  std::vector<float> v(12);
  for (int i = 0; i < 12; ++i) v[i] = (float)i * 0.5f;
  return Tensor::FromFloats({2, 3, 2}, v);
}

TEST(Softmax, Opset13NormalisesAlongAxis) {
  Tensor x = X();
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Softmax", 13).Attr("axis", IntAttr(1)).Input(x), &out));
  auto y = Values<float>(out[0]);
  auto xv = Values<float>(x);
  for (int b = 0; b < 2; ++b)
    for (int w = 0; w < 2; ++w) {
      double sum = 0;
      for (int c = 0; c < 3; ++c) sum += std::exp(xv[(b * 3 + c) * 2 + w]);
      for (int c = 0; c < 3; ++c) {
        int i = (b * 3 + c) * 2 + w;
        EXPECT_NEAR(y[i], std::exp(xv[i]) / sum, 1e-6) << i;
      }
    }
}

TEST(Softmax, OldOpsetCoercesTo2D) {
  Tensor x = X();
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Softmax", 11).Input(x), &out));  // axis 1: rows of 6 elements
  auto y = Values<float>(out[0]);
  auto xv = Values<float>(x);
  for (int b = 0; b < 2; ++b) {
    double sum = 0;
    for (int k = 0; k < 6; ++k) sum += std::exp(xv[b * 6 + k]);
    for (int k = 0; k < 6; ++k) EXPECT_NEAR(y[b * 6 + k], std::exp(xv[b * 6 + k]) / sum, 1e-6);
  }
}

TEST(Softmax, LargeValuesAreStableAndThreadIndependent) {
  std::vector<float> v(4 * 5000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = 1000.f + (float)(i % 7);
  Tensor x = Tensor::FromFloats({4, 5000}, v);
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Softmax").Input(x).Threads({3}), &out));
  auto ya = Values<float>(out[0]);
  for (float f : ya) ASSERT_TRUE(std::isfinite(f));
  double sum = 0;
  for (int k = 0; k < 5000; ++k) sum += ya[k];
  EXPECT_NEAR(sum, 1.0, 1e-4);
}

TEST(Softmax, RejectsBadAxisAndIntInput) {
  EXPECT_FALSE(InferOp(OpCase("Softmax").Attr("axis", IntAttr(3)), {Info(DType::kFloat32, {2, 3})}).ok());
  EXPECT_FALSE(InferOp(OpCase("Softmax"), {Info(DType::kInt32, {2, 3})}).ok());
  EXPECT_TRUE(InferOp(OpCase("Softmax"), {UnknownRank(DType::kFloat32)}).ok());
}

}  // namespace
}  // namespace dopt
