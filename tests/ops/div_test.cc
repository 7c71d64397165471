// Div, plus Mul and Sub (same broadcasting pattern).
#include <climits>
#include <cmath>

#include "elem_op_test_util.h"

namespace dopt {
namespace {
using namespace elemtest;

TEST(Div, IntegerTruncatesAndGuardsZero) {
  Node n = MakeNode("Div", 2, 1);
  Tensor a = Make<int32_t>(DType::kInt32, {5}, {7, -7, 7, 5, INT_MIN});
  Tensor b = Make<int32_t>(DType::kInt32, {5}, {2, 2, -2, 0, -1});
  auto out = RunNode(n, {&a, &b});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(Values<int32_t>((*out)[0]), (std::vector<int32_t>{3, -3, -3, 0, INT_MIN}));
  Tensor u = Make<uint8_t>(DType::kUInt8, {2}, {200, 9});
  Tensor v = Make<uint8_t>(DType::kUInt8, {}, {4});
  auto out2 = RunNode(n, {&u, &v});
  ASSERT_TRUE(out2.ok());
  EXPECT_EQ(Values<uint8_t>((*out2)[0]), (std::vector<uint8_t>{50, 2}));
}

TEST(Div, FloatFollowsIeee) {
  Node n = MakeNode("Div", 2, 1);
  Tensor a = F({3}, {1.f, -1.f, 0.f});
  Tensor b = F({}, {0.f});
  auto out = RunNode(n, {&a, &b});
  ASSERT_TRUE(out.ok());
  auto y = Values<float>((*out)[0]);
  EXPECT_EQ(y[0], INFINITY);
  EXPECT_EQ(y[1], -INFINITY);
  EXPECT_TRUE(std::isnan(y[2]));
}

TEST(MulSub, BroadcastAndTypeCheck) {
  Tensor a = F({2, 2}, {1.f, 2.f, 3.f, 4.f});
  Tensor b = F({2, 1}, {10.f, 100.f});
  auto m = RunNode(MakeNode("Mul", 2, 1), {&a, &b});
  auto s = RunNode(MakeNode("Sub", 2, 1), {&a, &b});
  ASSERT_TRUE(m.ok() && s.ok());
  EXPECT_EQ(Values<float>((*m)[0]), (std::vector<float>{10.f, 20.f, 300.f, 400.f}));
  EXPECT_EQ(Values<float>((*s)[0]), (std::vector<float>{-9.f, -8.f, -97.f, -96.f}));
  EXPECT_FALSE(InferNode(MakeNode("Sub", 2, 1), {Info(DType::kFloat32, {2}), Info(DType::kInt64, {2})}).ok());
  EXPECT_FALSE(InferNode(MakeNode("Mul", 2, 1), {Info(DType::kBool, {2}), Info(DType::kBool, {2})}).ok());
}

// Fuzz finding (tf_graphdef, constant folding): a broadcast whose output has a zero outer dim
// and a non-zero inner one divided by that zero dim while positioning its first row (SIGFPE).
// Pow has its own broadcasting loop with the same positioning.
TEST(MulSub, BroadcastToAnEmptyOutput) {
  struct Case { Shape a, b, out; } cases[] = {
      {{0, 3}, {1, 3}, {0, 3}}, {{2, 0, 3}, {3}, {2, 0, 3}}, {{4, 1}, {0, 1, 1}, {0, 4, 1}}, {{0}, {1}, {0}}};
  for (const auto& c : cases) {
    Tensor a(DType::kFloat32, c.a), b(DType::kFloat32, c.b);
    for (const char* op : {"Mul", "Sub", "Add", "Div", "Pow"}) {
      auto out = RunNode(MakeNode(op, 2, 1), {&a, &b});
      ASSERT_TRUE(out.ok()) << op << ": " << out.status().message();
      EXPECT_EQ((*out)[0].shape(), c.out) << op;
    }
  }
}

}  // namespace
}  // namespace dopt
