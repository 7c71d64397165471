#include <cmath>

#include "elem_op_test_util.h"

namespace dopt {
namespace {
using namespace elemtest;

TEST(MaxMin, ThreeInputsBroadcast) {
  Tensor a = F({2, 2}, {1.f, 5.f, -3.f, 0.f});
  Tensor b = F({2}, {2.f, -1.f});
  Tensor c = F({}, {0.5f});
  Node mx = MakeNode("Max", 3, 1);
  Node mn = MakeNode("Min", 3, 1);
  auto o1 = RunNode(mx, {&a, &b, &c});
  auto o2 = RunNode(mn, {&a, &b, &c});
  ASSERT_TRUE(o1.ok() && o2.ok());
  EXPECT_EQ(Values<float>((*o1)[0]), (std::vector<float>{2.f, 5.f, 2.f, 0.5f}));
  EXPECT_EQ(Values<float>((*o2)[0]), (std::vector<float>{0.5f, -1.f, -3.f, -1.f}));
  auto info = InferNode(mx, {Info(DType::kFloat32, {-1, 2}), Info(DType::kFloat32, {2}), Info(DType::kFloat32, {})});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*info)[0].shape, (Shape{-1, 2}));
}

TEST(MaxMin, IntTypesSingleInputAndNaN) {
  Tensor a = Make<int64_t>(DType::kInt64, {3}, {INT64_MIN, 4, 9});
  Tensor b = Make<int64_t>(DType::kInt64, {3}, {0, INT64_MAX, -9});
  auto o = RunNode(MakeNode("Max", 2, 1), {&a, &b});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(Values<int64_t>((*o)[0]), (std::vector<int64_t>{0, INT64_MAX, 9}));
  auto one = RunNode(MakeNode("Min", 1, 1), {&a});
  ASSERT_TRUE(one.ok());
  EXPECT_TRUE((*one)[0].SharesStorageWith(a));
  Tensor f = F({2}, {NAN, 1.f});
  Tensor g = F({2}, {0.f, NAN});
  auto n = RunNode(MakeNode("Min", 2, 1), {&f, &g});
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(std::isnan(Values<float>((*n)[0])[0]));
  EXPECT_TRUE(std::isnan(Values<float>((*n)[0])[1]));
}

TEST(MaxMin, RejectsMixedTypes) {
  Node mx = MakeNode("Max", 2, 1);
  EXPECT_FALSE(InferNode(mx, {Info(DType::kFloat32, {2}), Info(DType::kInt32, {2})}).ok());
  EXPECT_FALSE(InferNode(mx, {Info(DType::kFloat32, {2}), Info(DType::kFloat32, {3})}).ok());
  Tensor a = F({1}, {1.f});
  Tensor b = Make<int32_t>(DType::kInt32, {1}, {1});
  EXPECT_FALSE(RunNode(mx, {&a, &b}).ok());
}

}  // namespace
}  // namespace dopt
