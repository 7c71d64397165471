// Expand, Tile, Range, Size, CastLike, EyeLike, Trilu.
#include <cstdint>

#include "check_op.h"
#include "ops/shape_inference.h"

namespace dopt {
namespace {
using namespace optest;

Tensor I64(const Shape& s, const std::vector<int64_t>& v) { return Make<int64_t>(DType::kInt64, s, v); }

TEST(ShapeDataOps, ExpandBroadcastsBothWays) {
  Tensor x = Tensor::FromFloats({3, 1}, {1.f, 2.f, 3.f});
  EXPECT_TRUE(CheckOp(OpCase("Expand").Inputs({x, I64({2}, {3, 2})})
                          .Expect(Tensor::FromFloats({3, 2}, {1.f, 1.f, 2.f, 2.f, 3.f, 3.f}))));
  // A 1 in shape keeps x's dim; the output rank is the larger one.
  EXPECT_TRUE(CheckOp(OpCase("Expand").Inputs({x, I64({3}, {2, 1, 2})})
                          .Expect(Tensor::FromFloats({2, 3, 2}, {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}))));
  Tensor s = I64({3}, {2, 1, 2});
  auto info = InferOp(OpCase("Expand"), {Info(DType::kFloat32, {3, 1}), Info(DType::kInt64, {3})});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*info)[0].shape, (Shape{-1, 3, -1}));
  EXPECT_FALSE(RunOp(OpCase("Expand").Inputs({x, I64({2}, {2, 2})})).ok());
}

// Expand over shapes whose runs along the last dim cross the parallel chunks and the outer
// dims (ForEachBroadcastRun's collapsed run-and-carry walk), against index arithmetic.
TEST(ShapeDataOps, ExpandSweepMatchesIndexArithmetic) {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{3, 1, 5}, {2, 3, 7, 5}}, {{1, 64, 1}, {3, 64, 129}}, {{5}, {4, 3, 5}}, {{2, 1, 1, 3}, {2, 5, 1, 3}},
      {{1}, {70000}}, {{1, 1}, {257, 131}}};
  uint32_t seed = 50;
  for (const auto& c : cases) {
    const Shape& xs = c.first;
    const Shape& target = c.second;  // (clang 14 lambdas cannot capture structured bindings)
    Tensor x = Random(xs, seed++);
    auto ref = [&](const std::vector<Tensor>& in) {
      const Tensor& t = in[0];
      Tensor y(DType::kFloat32, target);
      const int r = (int)target.size(), rx = t.rank();
      for (int64_t i = 0; i < y.numel(); ++i) {
        int64_t rem = i, off = 0, st = 1;
        for (int d = r - 1; d >= 0; --d) {
          const int64_t id = rem % target[d];
          rem /= target[d];
          const int dx = d - (r - rx);
          if (dx >= 0) {
            if (t.dim(dx) != 1) off += id * st;
            st *= t.dim(dx);
          }
        }
        y.data<float>()[i] = t.data<float>()[off];
      }
      return std::vector<Tensor>{y};
    };
    EXPECT_TRUE(CheckOp(OpCase("Expand").Inputs({x, I64({(int64_t)target.size()}, target)}).Reference(ref, Tol::Near(0))
                            .Threads({2, 3})));
  }
}

TEST(ShapeDataOps, Tile) {
  Tensor x = Make<int32_t>(DType::kInt32, {2, 2}, {1, 2, 3, 4});
  EXPECT_TRUE(CheckOp(OpCase("Tile").Inputs({x, I64({2}, {1, 2})})
                          .Expect(Make<int32_t>(DType::kInt32, {2, 4}, {1, 2, 1, 2, 3, 4, 3, 4}))));
  EXPECT_TRUE(CheckOp(OpCase("Tile").Inputs({x, I64({2}, {2, 0})}).Expect(Make<int32_t>(DType::kInt32, {4, 0}, {}))));
  // A scalar (no dims, no repeats) stays itself.
  EXPECT_TRUE(CheckOp(OpCase("Tile").Inputs({Tensor::Scalar(2.5f), I64({0}, {})}).Expect(Tensor::Scalar(2.5f))));
  // Against a naive loop: repeats on every dim, and a last dim of one element.
  for (const Shape& xs : {Shape{3, 4, 5}, Shape{2, 3, 1}}) {
    Tensor big = Random(xs, 7);
    const std::vector<int64_t> reps = {2, 1, 3};
    auto ref = [&](const std::vector<Tensor>& in) {
      const Tensor& t = in[0];
      Tensor y(DType::kFloat32, {t.dim(0) * 2, t.dim(1), t.dim(2) * 3});
      for (int64_t i = 0; i < y.dim(0); ++i)
        for (int64_t j = 0; j < y.dim(1); ++j)
          for (int64_t k = 0; k < y.dim(2); ++k)
            y.data<float>()[(i * y.dim(1) + j) * y.dim(2) + k] =
                t.data<float>()[((i % t.dim(0)) * t.dim(1) + j) * t.dim(2) + k % t.dim(2)];
      return std::vector<Tensor>{y};
    };
    EXPECT_TRUE(CheckOp(OpCase("Tile").Inputs({big, I64({3}, reps)}).Reference(ref, Tol::Near(0))));
  }
}

TEST(ShapeDataOps, RangeAndSize) {
  EXPECT_TRUE(CheckOp(OpCase("Range").Inputs({Tensor::FromFloats({}, {1.f}), Tensor::FromFloats({}, {5.f}),
                                              Tensor::FromFloats({}, {1.5f})})
                          .Expect(Tensor::FromFloats({3}, {1.f, 2.5f, 4.f}))));
  auto i32 = [](int32_t v) { return Make<int32_t>(DType::kInt32, {}, {v}); };
  EXPECT_TRUE(CheckOp(OpCase("Range").Inputs({i32(10), i32(4), i32(-3)}).Expect(Make<int32_t>(DType::kInt32, {2}, {10, 7}))));
  EXPECT_TRUE(CheckOp(OpCase("Range").Inputs({i32(1), i32(1), i32(2)}).Expect(Make<int32_t>(DType::kInt32, {0}, {}))));
  EXPECT_FALSE(RunOp(OpCase("Range").Inputs({i32(1), i32(4), i32(0)})).ok());
  auto info = InferOp(OpCase("Range"), {Info(DType::kInt64, {}), Info(DType::kInt64, {}), Info(DType::kInt64, {})});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*info)[0].shape, (Shape{-1}));
  EXPECT_TRUE(CheckOp(OpCase("Size").Input(Random({3, 4}, 1)).Expect(I64({}, {12}))));
}

TEST(ShapeDataOps, CastLikeEyeLikeTrilu) {
  Tensor x = Tensor::FromFloats({3}, {1.7f, -2.5f, 0.f});
  EXPECT_TRUE(CheckOp(OpCase("CastLike").Inputs({x, I64({1}, {0})}).Expect(I64({3}, {1, -2, 0}))));
  EXPECT_TRUE(CheckOp(OpCase("EyeLike").Attr("k", IntAttr(1)).Input(Tensor::FromFloats({2, 3}, {0, 0, 0, 0, 0, 0}))
                          .Expect(Tensor::FromFloats({2, 3}, {0, 1, 0, 0, 0, 1}))));
  EXPECT_TRUE(CheckOp(OpCase("EyeLike").Attr("dtype", IntAttr(7)).Input(Tensor::FromFloats({2, 2}, {5, 5, 5, 5}))
                          .Expect(I64({2, 2}, {1, 0, 0, 1}))));
  Tensor m = Tensor::FromFloats({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_TRUE(CheckOp(OpCase("Trilu").Input(m).Expect(Tensor::FromFloats({2, 3}, {1, 2, 3, 0, 5, 6}))));
  EXPECT_TRUE(CheckOp(OpCase("Trilu").Attr("upper", IntAttr(0)).Inputs({m, I64({}, {-1})})
                          .Expect(Tensor::FromFloats({2, 3}, {0, 0, 0, 4, 0, 0}))));
  EXPECT_TRUE(CheckOp(OpCase("Trilu").Inputs({m, I64({}, {1})}).Expect(Tensor::FromFloats({2, 3}, {0, 2, 3, 0, 0, 6}))));
}

// Range of constants folds at load time (as in YOLO heads); with a graph-input limit its length
// is unknown until run time.
TEST(ShapeDataOps, RangeFoldsWhenConstantElseRuns) {
  Graph g;
  const int s = AddTestValue(g, "s", I64({}, {0}));
  const int l = AddTestValue(g, "l", I64({}, {6}));
  const int d = AddTestValue(g, "d", I64({}, {2}));
  const int r = AddTestValue(g, "r");
  g.AddNode(MakeNode("Range", "range", {s, l, d}, {r}));
  const int x = AddTestInput(g, "x", DType::kInt64, {});
  const int r2 = AddTestValue(g, "r2");
  g.AddNode(MakeNode("Range", "range2", {s, x, d}, {r2}));
  const int y = AddTestValue(g, "y");
  g.AddNode(MakeNode("Expand", "expand", {r2, AddTestValue(g, "shape", I64({2}, {2, 1}))}, {y}));
  g.outputs = {r, y};
  ASSERT_TRUE(PrepareGraph(g).ok());
  const Tensor* folded = g.value(r).ConstantValue();
  ASSERT_NE(folded, nullptr);
  EXPECT_EQ(Values<int64_t>(*folded), (std::vector<int64_t>{0, 2, 4}));
  EXPECT_EQ(g.value(r2).shape, (Shape{-1}));
  EXPECT_EQ(g.value(y).shape, (Shape{2, -1}));
  auto out = RunGraph(g, {{"x", I64({}, {5})}});
  EXPECT_EQ(Values<int64_t>(out["r"]), (std::vector<int64_t>{0, 2, 4}));
  EXPECT_EQ(out["y"].shape(), (Shape{2, 3}));
  EXPECT_EQ(Values<int64_t>(out["y"]), (std::vector<int64_t>{0, 2, 4, 0, 2, 4}));
}

}  // namespace
}  // namespace dopt
