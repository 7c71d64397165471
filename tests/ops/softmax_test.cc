#include <cmath>

#include "common/thread_pool.h"
#include "elem_op_test_util.h"

namespace dopt {
namespace {
using namespace elemtest;

// x of shape [2, 3, 2] with values 0..11.
Tensor X() {
  std::vector<float> v(12);
  for (int i = 0; i < 12; ++i) v[i] = (float)i * 0.5f;
  return F({2, 3, 2}, v);
}

TEST(Softmax, Opset13NormalisesAlongAxis) {
  Node n = MakeNode("Softmax", 1, 1, {{"axis", AttrI(1)}}, 13);
  Tensor x = X();
  auto out = RunNode(n, {&x});
  ASSERT_TRUE(out.ok()) << out.status().message();
  auto y = Values<float>((*out)[0]);
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
  Node n = MakeNode("Softmax", 1, 1, {}, 11);  // axis 1: rows of 6 elements
  Tensor x = X();
  auto out = RunNode(n, {&x});
  ASSERT_TRUE(out.ok()) << out.status().message();
  auto y = Values<float>((*out)[0]);
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
  Tensor x = F({4, 5000}, v);
  Node n = MakeNode("Softmax", 1, 1);
  ThreadPool pool(3);
  auto a = RunNode(n, {&x}, &pool);
  auto b = RunNode(n, {&x});
  ASSERT_TRUE(a.ok() && b.ok());
  auto ya = Values<float>((*a)[0]);
  EXPECT_EQ(ya, Values<float>((*b)[0]));
  for (float f : ya) ASSERT_TRUE(std::isfinite(f));
  double sum = 0;
  for (int k = 0; k < 5000; ++k) sum += ya[k];
  EXPECT_NEAR(sum, 1.0, 1e-4);
}

TEST(Softmax, RejectsBadAxisAndIntInput) {
  Node n = MakeNode("Softmax", 1, 1, {{"axis", AttrI(3)}});
  EXPECT_FALSE(InferNode(n, {Info(DType::kFloat32, {2, 3})}).ok());
  Node ok = MakeNode("Softmax", 1, 1);
  EXPECT_FALSE(InferNode(ok, {Info(DType::kInt32, {2, 3})}).ok());
  EXPECT_TRUE(InferNode(ok, {UnknownRank(DType::kFloat32)}).ok());
}

}  // namespace
}  // namespace dopt
