#include <cmath>

#include "elem_op_test_util.h"

namespace dopt {
namespace {
using namespace elemtest;

TEST(Clip, OldOpsetAttributes) {
  Node n = MakeNode("Clip", 1, 1, {{"min", AttrF(-1.f)}, {"max", AttrF(2.f)}}, 6);
  Tensor x = F({5}, {-3.f, -1.f, 0.5f, 2.f, 7.f});
  auto out = RunNode(n, {&x});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(Values<float>((*out)[0]), (std::vector<float>{-1.f, -1.f, 0.5f, 2.f, 2.f}));
}

TEST(Clip, OmittedMinInputAndNaN) {
  Node n = MakeNode("Clip", 3, 1, {}, 13, {1});
  Tensor x = F({4}, {-1e30f, 0.f, 5.f, NAN});
  Tensor hi = F({}, {1.f});
  auto out = RunNode(n, {&x, nullptr, &hi});
  ASSERT_TRUE(out.ok()) << out.status().message();
  auto y = Values<float>((*out)[0]);
  EXPECT_EQ(y[0], -1e30f);
  EXPECT_EQ(y[1], 0.f);
  EXPECT_EQ(y[2], 1.f);
  EXPECT_TRUE(std::isnan(y[3]));
}

TEST(Clip, Int8AndMinAboveMax) {
  Node n = MakeNode("Clip", 3, 1);
  Tensor x = Make<int8_t>(DType::kInt8, {4}, {-128, -5, 5, 127});
  Tensor lo = Make<int8_t>(DType::kInt8, {}, {-10});
  Tensor hi = Make<int8_t>(DType::kInt8, {}, {3});
  auto out = RunNode(n, {&x, &lo, &hi});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(Values<int8_t>((*out)[0]), (std::vector<int8_t>{-10, -5, 3, 3}));
  Tensor lo2 = Make<int8_t>(DType::kInt8, {}, {4});
  Tensor hi2 = Make<int8_t>(DType::kInt8, {}, {2});
  auto out2 = RunNode(n, {&x, &lo2, &hi2});
  ASSERT_TRUE(out2.ok());
  EXPECT_EQ(Values<int8_t>((*out2)[0]), (std::vector<int8_t>{2, 2, 2, 2}));
}

TEST(Clip, RejectsNonScalarBoundsAndMixedTypes) {
  Node n = MakeNode("Clip", 3, 1);
  EXPECT_FALSE(InferNode(n, {Info(DType::kFloat32, {4}), Info(DType::kFloat32, {2}), Info(DType::kFloat32, {})}).ok());
  EXPECT_FALSE(InferNode(n, {Info(DType::kFloat32, {4}), Info(DType::kInt8, {}), Info(DType::kFloat32, {})}).ok());
  EXPECT_FALSE(InferNode(n, {Info(DType::kBool, {4}), Info(DType::kBool, {}), Info(DType::kBool, {})}).ok());
}

}  // namespace
}  // namespace dopt
