#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

Tensor Bools(const std::vector<uint8_t>& v) { return Make<uint8_t>(DType::kBool, {(int64_t)v.size()}, v); }

TEST(ReverseSequenceOp, SpecExamples) {
  // time_axis 0, batch_axis 1 (the defaults).
  Tensor x = Tensor::FromFloats({4, 4}, {0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15});
  Tensor lens = Tensor::FromInt64s({4}, {4, 3, 2, 1});
  EXPECT_TRUE(CheckOp(OpCase("ReverseSequence").Inputs({x, lens})
                          .Expect(Tensor::FromFloats({4, 4}, {3, 6, 9, 12, 2, 5, 8, 13, 1, 4, 10, 14, 0, 7, 11, 15}))));
  // batch_axis 0, time_axis 1.
  Tensor xb = Tensor::FromFloats({4, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
  Tensor lb = Tensor::FromInt64s({4}, {1, 2, 3, 4});
  EXPECT_TRUE(CheckOp(OpCase("ReverseSequence").Attr("batch_axis", IntAttr(0)).Attr("time_axis", IntAttr(1)).Inputs({xb, lb})
                          .Expect(Tensor::FromFloats({4, 4}, {0, 1, 2, 3, 5, 4, 6, 7, 10, 9, 8, 11, 15, 14, 13, 12}))));
}

TEST(ReverseSequenceOp, RandomAgainstReference) {
  for (int batch_axis : {0, 1}) {
    Shape s = batch_axis == 0 ? Shape{5, 9, 3, 4} : Shape{9, 5, 3, 4};
    Tensor x = Random(s, 11);
    Tensor lens = Tensor::FromInt64s({5}, {0, 9, 4, 1, 7});
    auto ref = [&](const std::vector<Tensor>& in) {
      Tensor y = in[0].Clone();
      const int64_t inner = 12;
      for (int64_t b = 0; b < 5; ++b)
        for (int64_t t = 0; t < 9; ++t) {
          const int64_t l = in[1].data<int64_t>()[b];
          const int64_t st = t < l ? l - 1 - t : t;
          auto row = [&](int64_t tt) { return batch_axis == 0 ? b * 9 + tt : tt * 5 + b; };
          for (int64_t k = 0; k < inner; ++k)
            y.data<float>()[row(t) * inner + k] = in[0].data<float>()[row(st) * inner + k];
        }
      return std::vector<Tensor>{y};
    };
    EXPECT_TRUE(CheckOp(OpCase("ReverseSequence")
                            .Attr("batch_axis", IntAttr(batch_axis))
                            .Attr("time_axis", IntAttr(1 - batch_axis))
                            .Inputs({x, lens})
                            .Reference(ref, Tol::Exact())
                            .Label("batch_axis " + std::to_string(batch_axis))));
  }
  Tensor xi = Make<int64_t>(DType::kInt64, {3, 2}, {1, 2, 3, 4, 5, 6});
  EXPECT_TRUE(CheckOp(OpCase("ReverseSequence").Inputs({xi, Tensor::FromInt64s({2}, {3, 2})})
                          .Expect(Make<int64_t>(DType::kInt64, {3, 2}, {5, 4, 3, 2, 1, 6}))));
}

TEST(ReverseSequenceOp, Errors) {
  Tensor x = Random({4, 3}, 1);
  EXPECT_FALSE(RunOp(OpCase("ReverseSequence").Inputs({x, Tensor::FromInt64s({3}, {5, 1, 1})})).ok());  // too long
  EXPECT_FALSE(RunOp(OpCase("ReverseSequence").Inputs({x, Tensor::FromInt64s({2}, {1, 1})})).ok());     // batch 3
  EXPECT_FALSE(InferOp(OpCase("ReverseSequence").Attr("batch_axis", IntAttr(2)),
                       {Info(DType::kFloat32, {4, 3, 2}), Info(DType::kInt64, {3})}).ok());
  EXPECT_FALSE(InferOp(OpCase("ReverseSequence"), {Info(DType::kFloat32, {4, 3}), Info(DType::kInt64, {4})}).ok());
  EXPECT_FALSE(InferOp(OpCase("ReverseSequence"), {Info(DType::kFloat32, {4}), Info(DType::kInt64, {4})}).ok());
}

TEST(CompressOp, AxisAndFlattened) {
  Tensor x = Tensor::FromFloats({3, 2}, {1, 2, 3, 4, 5, 6});
  EXPECT_TRUE(CheckOp(OpCase("Compress").Attr("axis", IntAttr(0)).Inputs({x, Bools({0, 1, 1})})
                          .Expect(Tensor::FromFloats({2, 2}, {3, 4, 5, 6}))));
  EXPECT_TRUE(CheckOp(OpCase("Compress").Attr("axis", IntAttr(1)).Inputs({x, Bools({0, 1})})
                          .Expect(Tensor::FromFloats({3, 1}, {2, 4, 6}))));
  EXPECT_TRUE(CheckOp(OpCase("Compress").Attr("axis", IntAttr(-1)).Inputs({x, Bools({0, 1})})
                          .Expect(Tensor::FromFloats({3, 1}, {2, 4, 6}))));
  // Shorter condition; no axis: flattened.
  EXPECT_TRUE(CheckOp(OpCase("Compress").Inputs({x, Bools({0, 1, 0, 0, 1})}).Expect(Tensor::FromFloats({2}, {2, 5}))));
  EXPECT_TRUE(CheckOp(OpCase("Compress").Attr("axis", IntAttr(0)).Inputs({x, Bools({0, 0, 0})})
                          .Expect(Tensor::FromFloats({0, 2}, {}))));
  Tensor xi = Make<int32_t>(DType::kInt32, {2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_TRUE(CheckOp(OpCase("Compress").Attr("axis", IntAttr(1)).Inputs({xi, Bools({1, 0, 1})})
                          .Expect(Make<int32_t>(DType::kInt32, {2, 2}, {1, 3, 4, 6}))));
  // Large, across threads.
  Tensor big = Random({7, 300, 20}, 5);
  std::vector<uint8_t> c(300);
  for (int i = 0; i < 300; ++i) c[i] = (i * 7) % 3 == 0;
  auto ref = [&](const std::vector<Tensor>& in) {
    std::vector<float> v;
    for (int64_t o = 0; o < 7; ++o)
      for (int64_t j = 0; j < 300; ++j)
        if (c[j])
          for (int64_t k = 0; k < 20; ++k) v.push_back(in[0].data<float>()[(o * 300 + j) * 20 + k]);
    return std::vector<Tensor>{Tensor::FromFloats({7, (int64_t)v.size() / 140, 20}, v)};
  };
  EXPECT_TRUE(CheckOp(OpCase("Compress").Attr("axis", IntAttr(1)).Inputs({big, Bools(c)}).Reference(ref, Tol::Exact())));
}

TEST(CompressOp, ShapeRuleAndErrors) {
  auto inf = InferOp(OpCase("Compress").Attr("axis", IntAttr(1)), {Info(DType::kFloat32, {2, 5}), Info(DType::kBool, {5})});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].shape, (Shape{2, -1}));
  Tensor c = Bools({1, 0, 1});
  inf = InferOp(OpCase("Compress"), {Info(DType::kFloat32, {2, 5}), Info(DType::kBool, {3}, &c)});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].shape, (Shape{2}));
  EXPECT_FALSE(InferOp(OpCase("Compress"), {Info(DType::kFloat32, {2, 5}), Info(DType::kInt64, {3})}).ok());
  EXPECT_FALSE(InferOp(OpCase("Compress").Attr("axis", IntAttr(2)), {Info(DType::kFloat32, {2, 5}), Info(DType::kBool, {3})}).ok());
  EXPECT_FALSE(RunOp(OpCase("Compress").Attr("axis", IntAttr(0)).Inputs({Random({2, 2}, 1), Bools({1, 1, 1})})).ok());
}

}  // namespace
}  // namespace dopt
