#include <cmath>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

Tensor I64(const std::vector<int64_t>& v) { return Tensor::FromInt64s({(int64_t)v.size()}, v); }

TEST(UniqueOp, FlattenedSortedAndUnsorted) {
  Tensor x = Tensor::FromFloats({2, 3}, {2, 1, 1, 3, 4, 3});
  EXPECT_TRUE(CheckOp(OpCase("Unique").Input(x).Outputs(4)
                          .Expect(0, Tensor::FromFloats({4}, {1, 2, 3, 4}))
                          .Expect(1, I64({1, 0, 3, 4}))
                          .Expect(2, I64({1, 0, 0, 2, 3, 2}))
                          .Expect(3, I64({2, 1, 2, 1}))));
  EXPECT_TRUE(CheckOp(OpCase("Unique").Attr("sorted", IntAttr(0)).Input(x).Outputs(4)
                          .Expect(0, Tensor::FromFloats({4}, {2, 1, 3, 4}))
                          .Expect(1, I64({0, 1, 3, 4}))
                          .Expect(2, I64({0, 1, 1, 2, 3, 2}))
                          .Expect(3, I64({1, 2, 2, 1}))));
  // Only Y.
  EXPECT_TRUE(CheckOp(OpCase("Unique").Input(Make<int32_t>(DType::kInt32, {5}, {5, -1, 5, 5, 0}))
                          .Expect(Make<int32_t>(DType::kInt32, {3}, {-1, 0, 5}))));
}

TEST(UniqueOp, AlongAxis) {
  // ONNX's example: A = [[1, 0, 0], [1, 0, 0], [2, 3, 4]], axis 0.
  Tensor a = Tensor::FromFloats({3, 3}, {1, 0, 0, 1, 0, 0, 2, 3, 4});
  EXPECT_TRUE(CheckOp(OpCase("Unique").Attr("axis", IntAttr(0)).Input(a).Outputs(4)
                          .Expect(0, Tensor::FromFloats({2, 3}, {1, 0, 0, 2, 3, 4}))
                          .Expect(1, I64({0, 2}))
                          .Expect(2, I64({0, 0, 1}))
                          .Expect(3, I64({2, 1}))));
  // 3-D along the middle axis (slices compare outer-major, like numpy's moveaxis + reshape).
  Tensor b = Tensor::FromFloats({2, 4, 2}, {1, 1, 0, 1, 2, 1, 0, 1, 1, 1, 0, 1, 2, 1, 0, 1});
  EXPECT_TRUE(CheckOp(OpCase("Unique").Attr("axis", IntAttr(-2)).Input(b).Outputs(4)
                          .Expect(0, Tensor::FromFloats({2, 3, 2}, {0, 1, 1, 1, 2, 1, 0, 1, 1, 1, 2, 1}))
                          .Expect(1, I64({1, 0, 2}))
                          .Expect(2, I64({1, 0, 2, 0}))
                          .Expect(3, I64({2, 1, 1}))));
  // Random integers along axis 1, against reconstruction: Y[:, inverse] == x.
  std::vector<int64_t> v(4 * 50 * 2);
  for (size_t i = 0; i < v.size(); ++i) v[i] = (int64_t)((i * 7919 / 3) % 3);
  Tensor x = Make<int64_t>(DType::kInt64, {4, 50, 2}, v);
  for (int sorted : {0, 1}) {
    std::vector<Tensor> out;
    ASSERT_TRUE(CheckOp(OpCase("Unique").Attr("axis", IntAttr(1)).Attr("sorted", IntAttr(sorted)).Input(x).Outputs(4), &out));
    const int64_t k = out[0].dim(1);
    int64_t total = 0;
    for (int64_t j = 0; j < k; ++j) total += out[3].data<int64_t>()[j];
    EXPECT_EQ(total, 50);
    for (int64_t o = 0; o < 4; ++o)
      for (int64_t s = 0; s < 50; ++s)
        for (int64_t i = 0; i < 2; ++i)
          EXPECT_EQ(out[0].data<int64_t>()[(o * k + out[2].data<int64_t>()[s]) * 2 + i], v[(o * 50 + s) * 2 + i]);
  }
}

TEST(UniqueOp, NaNsAreEqualAndSortLast) {
  const float nan = std::nanf("");
  Tensor x = Tensor::FromFloats({6}, {nan, 2, nan, -1, 2, 0});
  EXPECT_TRUE(CheckOp(OpCase("Unique").Input(x).Outputs(4)
                          .Expect(0, Tensor::FromFloats({4}, {-1, 0, 2, nan}))
                          .Expect(1, I64({3, 5, 1, 0}))
                          .Expect(2, I64({3, 2, 3, 0, 2, 1}))
                          .Expect(3, I64({1, 1, 2, 2}))));
}

TEST(UniqueOp, ShapeRule) {
  auto inf = InferOp(OpCase("Unique").Outputs(4), {Info(DType::kFloat32, {2, 3})});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].shape, (Shape{-1}));
  EXPECT_EQ((*inf)[2].shape, (Shape{6}));
  inf = InferOp(OpCase("Unique").Attr("axis", IntAttr(1)).Outputs(3), {Info(DType::kInt64, {2, 5, 3})});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].shape, (Shape{2, -1, 3}));
  EXPECT_EQ((*inf)[1].shape, (Shape{-1}));
  EXPECT_EQ((*inf)[2].shape, (Shape{5}));
  Tensor c = Tensor::FromFloats({4}, {3, 3, 1, 3});
  inf = InferOp(OpCase("Unique").Outputs(4), {Info(DType::kFloat32, {4}, &c)});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].shape, (Shape{2}));
  EXPECT_EQ((*inf)[3].shape, (Shape{2}));
  EXPECT_FALSE(InferOp(OpCase("Unique").Attr("axis", IntAttr(3)), {Info(DType::kFloat32, {2, 3})}).ok());
}

}  // namespace
}  // namespace dopt
