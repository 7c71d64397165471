// Comparison and logic ops (Equal, Less, LessOrEqual, Greater, GreaterOrEqual, And, Or, Xor),
// Where, Mod, BitShift, Sum and Mean.
#include <cmath>
#include <cstdint>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

Tensor Bools(const Shape& s, const std::vector<uint8_t>& v) { return Make<uint8_t>(DType::kBool, s, v); }

TEST(CompareLogic, ComparisonsBroadcastToBool) {
  Tensor a = Tensor::FromFloats({2, 3}, {1.f, 2.f, 3.f, 4.f, 5.f, NAN});
  Tensor b = Tensor::FromFloats({3}, {2.f, 2.f, 2.f});
  EXPECT_TRUE(CheckOp(OpCase("Equal").Inputs({a, b}).Expect(Bools({2, 3}, {0, 1, 0, 0, 0, 0}))));
  EXPECT_TRUE(CheckOp(OpCase("Less").Inputs({a, b}).Expect(Bools({2, 3}, {1, 0, 0, 0, 0, 0}))));
  EXPECT_TRUE(CheckOp(OpCase("LessOrEqual").Inputs({a, b}).Expect(Bools({2, 3}, {1, 1, 0, 0, 0, 0}))));
  EXPECT_TRUE(CheckOp(OpCase("Greater").Inputs({a, b}).Expect(Bools({2, 3}, {0, 0, 1, 1, 1, 0}))));
  EXPECT_TRUE(CheckOp(OpCase("GreaterOrEqual").Inputs({a, b}).Expect(Bools({2, 3}, {0, 1, 1, 1, 1, 0}))));
  Tensor i = Make<int64_t>(DType::kInt64, {2, 1}, {INT64_MIN, 7});
  Tensor j = Make<int64_t>(DType::kInt64, {1, 2}, {7, INT64_MIN});
  EXPECT_TRUE(CheckOp(OpCase("Less", 9).Inputs({i, j}).Expect(Bools({2, 2}, {1, 0, 0, 0}))));
  EXPECT_TRUE(CheckOp(OpCase("Equal").Inputs({Bools({2}, {1, 0}), Bools({1}, {1})}).Expect(Bools({2}, {1, 0}))));
  auto info = InferOp(OpCase("Greater"), {Info(DType::kInt32, {-1, 3}), Info(DType::kInt32, {3})});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*info)[0].dtype, DType::kBool);
  EXPECT_EQ((*info)[0].shape, (Shape{-1, 3}));
  EXPECT_FALSE(InferOp(OpCase("Less"), {Info(DType::kFloat32, {2}), Info(DType::kInt32, {2})}).ok());
}

TEST(CompareLogic, AndOrXor) {
  Tensor a = Bools({2, 2}, {0, 0, 1, 1});
  Tensor b = Bools({2}, {0, 1});
  EXPECT_TRUE(CheckOp(OpCase("And").Inputs({a, b}).Expect(Bools({2, 2}, {0, 0, 0, 1}))));
  EXPECT_TRUE(CheckOp(OpCase("Or").Inputs({a, b}).Expect(Bools({2, 2}, {0, 1, 1, 1}))));
  EXPECT_TRUE(CheckOp(OpCase("Xor").Inputs({a, b}).Expect(Bools({2, 2}, {0, 1, 1, 0}))));
  EXPECT_FALSE(InferOp(OpCase("And"), {Info(DType::kFloat32, {2}), Info(DType::kFloat32, {2})}).ok());
}

TEST(CompareLogic, WhereBroadcastsThreeInputs) {
  Tensor c = Bools({2, 1}, {1, 0});
  Tensor x = Tensor::FromFloats({3}, {1.f, 2.f, 3.f});
  Tensor y = Tensor::FromFloats({}, {-1.f});
  EXPECT_TRUE(CheckOp(OpCase("Where").Inputs({c, x, y}).Expect(Tensor::FromFloats({2, 3}, {1.f, 2.f, 3.f, -1.f, -1.f, -1.f}))));
  Tensor xi = Make<int64_t>(DType::kInt64, {1, 2}, {5, 6});
  Tensor yi = Make<int64_t>(DType::kInt64, {2, 1}, {7, 8});
  EXPECT_TRUE(CheckOp(OpCase("Where").Inputs({Bools({2}, {0, 1}), xi, yi}).Expect(Make<int64_t>(DType::kInt64, {2, 2}, {7, 6, 8, 6}))));
  EXPECT_FALSE(InferOp(OpCase("Where"), {Info(DType::kFloat32, {2}), Info(DType::kFloat32, {2}), Info(DType::kFloat32, {2})}).ok());
}

// Where over broadcast patterns of all three inputs (the run loops for condition, X and Y
// strides of 0 and 1, and the strided fallback), big enough to be split across threads, against
// index arithmetic.
TEST(CompareLogic, WhereSweepMatchesIndexArithmetic) {
  struct Case { Shape c, x, y; } cases[] = {
      {{1, 4, 64, 64}, {1}, {1, 4, 64, 64}}, {{1, 1, 64, 64}, {1}, {1}},        {{4, 64, 64}, {4, 64, 64}, {1}},
      {{3, 5, 601}, {3, 5, 601}, {3, 5, 601}}, {{3, 1, 601}, {1, 7, 1}, {601}}, {{5, 1}, {5, 3001}, {1, 3001}},
      {{}, {2, 3}, {3}},                        {{7, 1, 1}, {1, 9, 1}, {1, 1, 11}}, {{2, 1, 3, 4}, {1, 1, 3, 4}, {}}};
  uint32_t seed = 90;
  for (const auto& k : cases) {
    const Shape cs = k.c, xs = k.x, ys = k.y;
    Tensor cond(DType::kBool, cs);
    uint32_t bits = seed * 2654435761u;
    for (int64_t i = 0; i < cond.numel(); ++i) {
      bits = bits * 1664525u + 1013904223u;
      cond.data<uint8_t>()[i] = (bits >> 16) & 1;
    }
    Tensor x = Random(xs, seed++), y = Random(ys, seed++, 2.f, 3.f);
    const size_t r = std::max({cs.size(), xs.size(), ys.size()});
    auto pad = [&](Shape s) {
      while (s.size() < r) s.insert(s.begin(), 1);
      return s;
    };
    const Shape pc = pad(cs), px = pad(xs), py = pad(ys);
    Shape os(r);
    for (size_t d = 0; d < r; ++d) os[d] = std::max({pc[d], px[d], py[d]});
    auto ref = [&](const std::vector<Tensor>& in) {
      Tensor out(DType::kFloat32, os);
      for (int64_t i = 0; i < out.numel(); ++i) {
        int64_t rem = i, ci = 0, xi = 0, yi = 0, cm = 1, xm = 1, ym = 1;
        for (int d = (int)r - 1; d >= 0; --d) {
          const int64_t id = rem % os[d];
          rem /= os[d];
          ci += (pc[d] == 1 ? 0 : id) * cm;
          xi += (px[d] == 1 ? 0 : id) * xm;
          yi += (py[d] == 1 ? 0 : id) * ym;
          cm *= pc[d];
          xm *= px[d];
          ym *= py[d];
        }
        out.data<float>()[i] = in[0].data<uint8_t>()[ci] ? in[1].data<float>()[xi] : in[2].data<float>()[yi];
      }
      return std::vector<Tensor>{out};
    };
    EXPECT_TRUE(CheckOp(OpCase("Where").Inputs({cond, x, y}).Reference(ref, Tol::Near(0)).Threads({2, 3})
                            .Label(ShapeToString(cs) + " ? " + ShapeToString(xs) + " : " + ShapeToString(ys))));
  }
}

TEST(CompareLogic, ModSignsAndFmod) {
  Tensor a = Make<int32_t>(DType::kInt32, {6}, {-4, 7, 5, 4, -7, 8});
  Tensor b = Make<int32_t>(DType::kInt32, {6}, {2, -3, 8, -2, 3, 0});
  EXPECT_TRUE(CheckOp(OpCase("Mod").Inputs({a, b}).Expect(Make<int32_t>(DType::kInt32, {6}, {0, -2, 5, 0, 2, 0}))));
  EXPECT_TRUE(CheckOp(OpCase("Mod").Attr("fmod", IntAttr(1)).Inputs({a, b})
                          .Expect(Make<int32_t>(DType::kInt32, {6}, {0, 1, 5, 0, -1, 0}))));
  Tensor f = Tensor::FromFloats({4}, {-4.3f, 7.2f, 5.f, -7.5f});
  Tensor g = Tensor::FromFloats({1}, {2.f});
  EXPECT_TRUE(CheckOp(OpCase("Mod").Attr("fmod", IntAttr(1)).Inputs({f, g})
                          .Expect(Tensor::FromFloats({4}, {std::fmod(-4.3f, 2.f), std::fmod(7.2f, 2.f), 1.f, -1.5f}))));
  EXPECT_TRUE(CheckOp(OpCase("Mod").Inputs({f, g}).Expect(Tensor::FromFloats({4}, {std::fmod(-4.3f, 2.f) + 2.f, std::fmod(7.2f, 2.f), 1.f, 0.5f}))));
  Tensor m = Make<int8_t>(DType::kInt8, {1}, {-128});
  EXPECT_TRUE(CheckOp(OpCase("Mod").Inputs({m, Make<int8_t>(DType::kInt8, {1}, {-1})}).Expect(Make<int8_t>(DType::kInt8, {1}, {0}))));
}

TEST(CompareLogic, BitShift) {
  Tensor x = Make<uint8_t>(DType::kUInt8, {4}, {16, 4, 1, 255});
  Tensor s = Make<uint8_t>(DType::kUInt8, {4}, {1, 2, 3, 8});
  EXPECT_TRUE(CheckOp(OpCase("BitShift").Attr("direction", StringAttr("LEFT")).Inputs({x, s})
                          .Expect(Make<uint8_t>(DType::kUInt8, {4}, {32, 16, 8, 0}))));
  EXPECT_TRUE(CheckOp(OpCase("BitShift").Attr("direction", StringAttr("RIGHT")).Inputs({x, s})
                          .Expect(Make<uint8_t>(DType::kUInt8, {4}, {8, 1, 0, 0}))));
  EXPECT_FALSE(RunOp(OpCase("BitShift").Attr("direction", StringAttr("UP")).Inputs({x, s})).ok());
}

TEST(CompareLogic, SumMean) {
  Tensor a = Tensor::FromFloats({2, 2}, {1.f, 2.f, 3.f, 4.f});
  Tensor b = Tensor::FromFloats({2}, {10.f, 20.f});
  Tensor c = Tensor::FromFloats({}, {0.5f});
  EXPECT_TRUE(CheckOp(OpCase("Sum").Inputs({a, b, c}).Expect(Tensor::FromFloats({2, 2}, {11.5f, 22.5f, 13.5f, 24.5f}))));
  EXPECT_TRUE(CheckOp(OpCase("Mean").Inputs({a, b}).Expect(Tensor::FromFloats({2, 2}, {5.5f, 11.f, 6.5f, 12.f}))));
  EXPECT_TRUE(CheckOp(OpCase("Mean").Input(a).Expect(a)));
  EXPECT_TRUE(CheckOp(OpCase("Sum", 8).Input(a).Expect(a)));
}

}  // namespace
}  // namespace dopt
