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

// The four binary ops over broadcast patterns (scalar, row, column, inner and outer size-1
// dims) on tensors big enough to be split across threads, against index arithmetic in double.
TEST(MulSub, BroadcastSweepMatchesIndexArithmetic) {
  struct Case { Shape a, b; } cases[] = {{{3, 5, 601}, {}},        {{3, 5, 601}, {601}},      {{3, 5, 601}, {5, 1}},
                                         {{3, 1, 601}, {1, 7, 1}}, {{1}, {4, 3, 1301}},       {{2, 3, 4, 353}, {2, 1, 4, 1}},
                                         {{7, 2011}, {7, 2011}},   {{1, 4, 64, 64}, {1, 1, 64, 64}},
                                         {{33, 1}, {1, 65}},       {{1, 1}, {1}},             {{5, 1, 7}, {5, 3, 1}},
                                         {{2, 1, 3, 4}, {1, 1, 3, 4}}};
  uint32_t seed = 70;
  for (const auto& c : cases) {
    Tensor a = Random(c.a, seed++), b = Random(c.b, seed++, 0.5f, 2.f);
    const size_t r = std::max(c.a.size(), c.b.size());
    Shape as = c.a, bs = c.b, os(r);
    while (as.size() < r) as.insert(as.begin(), 1);
    while (bs.size() < r) bs.insert(bs.begin(), 1);
    for (size_t d = 0; d < r; ++d) os[d] = std::max(as[d], bs[d]);
    for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
      const std::string name = op;
      auto ref = [&](const std::vector<Tensor>& in) {
        Tensor y(DType::kFloat32, os);
        std::vector<int64_t> idx(r);
        for (int64_t i = 0; i < y.numel(); ++i) {
          int64_t rem = i, ai = 0, bi = 0, am = 1, bm = 1;
          for (int d = (int)r - 1; d >= 0; --d) {
            const int64_t k = rem % os[d];
            rem /= os[d];
            ai += (as[d] == 1 ? 0 : k) * am;
            bi += (bs[d] == 1 ? 0 : k) * bm;
            am *= as[d];
            bm *= bs[d];
          }
          const double x = in[0].data<float>()[ai], z = in[1].data<float>()[bi];
          y.data<float>()[i] = (float)(name == "Add" ? x + z : name == "Sub" ? x - z : name == "Mul" ? x * z : x / z);
        }
        return std::vector<Tensor>{y};
      };
      EXPECT_TRUE(CheckOp(OpCase(op).Inputs({a, b}).Reference(ref, Tol::Exact())
                              .Label(ShapeToString(c.a) + " " + op + " " + ShapeToString(c.b))));
    }
  }
}

}  // namespace
}  // namespace dopt
