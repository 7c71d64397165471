// Div, plus Mul and Sub (same broadcasting pattern).
#include <climits>
#include <cmath>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(Div, IntegerTruncatesAndGuardsZero) {
  Tensor a = Make<int32_t>(DType::kInt32, {5}, {7, -7, 7, 5, INT_MIN});
  Tensor b = Make<int32_t>(DType::kInt32, {5}, {2, 2, -2, 0, -1});
  EXPECT_TRUE(CheckOp(OpCase("Div").Inputs({a, b}).Expect(Make<int32_t>(DType::kInt32, {5}, {3, -3, -3, 0, INT_MIN}))));
  Tensor u = Make<uint8_t>(DType::kUInt8, {2}, {200, 9});
  Tensor v = Make<uint8_t>(DType::kUInt8, {}, {4});
  EXPECT_TRUE(CheckOp(OpCase("Div").Inputs({u, v}).Expect(Make<uint8_t>(DType::kUInt8, {2}, {50, 2}))));
}

TEST(Div, FloatFollowsIeee) {
  Tensor a = Tensor::FromFloats({3}, {1.f, -1.f, 0.f});
  Tensor b = Tensor::FromFloats({}, {0.f});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Div").Inputs({a, b}), &out));
  auto y = Values<float>(out[0]);
  EXPECT_EQ(y[0], INFINITY);
  EXPECT_EQ(y[1], -INFINITY);
  EXPECT_TRUE(std::isnan(y[2]));
}

TEST(MulSub, BroadcastAndTypeCheck) {
  Tensor a = Tensor::FromFloats({2, 2}, {1.f, 2.f, 3.f, 4.f});
  Tensor b = Tensor::FromFloats({2, 1}, {10.f, 100.f});
  EXPECT_TRUE(CheckOp(OpCase("Mul").Inputs({a, b}).Expect(Tensor::FromFloats({2, 2}, {10.f, 20.f, 300.f, 400.f}))));
  EXPECT_TRUE(CheckOp(OpCase("Sub").Inputs({a, b}).Expect(Tensor::FromFloats({2, 2}, {-9.f, -8.f, -97.f, -96.f}))));
  EXPECT_FALSE(InferOp(OpCase("Sub"), {Info(DType::kFloat32, {2}), Info(DType::kInt64, {2})}).ok());
  EXPECT_FALSE(InferOp(OpCase("Mul"), {Info(DType::kBool, {2}), Info(DType::kBool, {2})}).ok());
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
      std::vector<Tensor> out;
      ASSERT_TRUE(CheckOp(OpCase(op).Inputs({a, b}), &out));
      EXPECT_EQ(out[0].shape(), c.out) << op;
    }
  }
}

}  // namespace
}  // namespace dopt
