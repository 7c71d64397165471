// ArgMax, ArgMin and TopK: against loops over random inputs for every axis, ties (first or
// last index; TopK keeps the lower index first), the TopK-1 k attribute and error cases.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

// Rounded values so that ties occur.
Tensor Tied(const Shape& shape, uint32_t seed) {
  Tensor x = Random(shape, seed, -3, 3);
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = std::round(x.data<float>()[i]);
  return x;
}

TEST(ArgMaxMin, AxesKeepdimsAndLastIndexMatchLoops) {
  Tensor x = Tied({3, 4, 5}, 11);
  for (const char* op : {"ArgMax", "ArgMin"})
    for (int axis = -3; axis < 3; ++axis)
      for (int keep = 0; keep < 2; ++keep)
        for (int last = 0; last < 2; ++last) {
          const bool is_max = std::string(op) == "ArgMax";
          auto ref = [&](const std::vector<Tensor>& in) {
            const Tensor& t = in[0];
            const int a = axis < 0 ? axis + 3 : axis;
            Shape os;
            for (int d = 0; d < 3; ++d) {
              if (d != a) os.push_back(t.dim(d));
              else if (keep) os.push_back(1);
            }
            Tensor y(DType::kInt64, os);
            int64_t outer = 1, inner = 1, n = t.dim(a);
            for (int d = 0; d < a; ++d) outer *= t.dim(d);
            for (int d = a + 1; d < 3; ++d) inner *= t.dim(d);
            for (int64_t o = 0; o < outer; ++o)
              for (int64_t i = 0; i < inner; ++i) {
                int64_t best = 0;
                for (int64_t j = 1; j < n; ++j) {
                  const float v = t.data<float>()[(o * n + j) * inner + i], b = t.data<float>()[(o * n + best) * inner + i];
                  if ((is_max ? v > b : v < b) || (last && v == b)) best = j;
                }
                y.data<int64_t>()[o * inner + i] = best;
              }
            return std::vector<Tensor>{y};
          };
          EXPECT_TRUE(CheckOp(OpCase(op).Attr("axis", IntAttr(axis)).Attr("keepdims", IntAttr(keep))
                                  .Attr("select_last_index", IntAttr(last)).Input(x).Reference(ref, Tol::Exact())
                                  .Label("axis=" + std::to_string(axis) + " keepdims=" + std::to_string(keep) +
                                         " last=" + std::to_string(last))));
        }
}

TEST(ArgMaxMin, DefaultsNanAndErrors) {
  Tensor x = Tensor::FromFloats({2, 3}, {1, 5, 5, NAN, 2, 9});
  // axis 0, keepdims 1 by default; NaN wins as the extreme.
  EXPECT_TRUE(CheckOp(OpCase("ArgMax").Input(x).Expect(Tensor::FromInt64s({1, 3}, {1, 0, 1}))));
  EXPECT_TRUE(CheckOp(OpCase("ArgMin").Input(x).Expect(Tensor::FromInt64s({1, 3}, {1, 1, 0}))));
  EXPECT_TRUE(CheckOp(OpCase("ArgMax").Attr("axis", IntAttr(1)).Attr("keepdims", IntAttr(0)).Input(x)
                          .Expect(Tensor::FromInt64s({2}, {1, 0}))));
  EXPECT_TRUE(CheckOp(OpCase("ArgMax", 11).Attr("axis", IntAttr(1)).Input(x).Expect(Tensor::FromInt64s({2, 1}, {1, 0}))));
  EXPECT_FALSE(RunOp(OpCase("ArgMax").Attr("axis", IntAttr(2)).Input(x)).ok());
  EXPECT_FALSE(RunOp(OpCase("ArgMin").Attr("axis", IntAttr(1)).Input(Tensor(DType::kFloat32, {2, 0}))).ok());
  EXPECT_FALSE(InferOp(OpCase("ArgMax"), {Info(DType::kInt64, {2})}).ok());
}

TEST(TopK, LargestSmallestAxesAndTiesMatchSort) {
  Tensor x = Tied({3, 4, 6}, 5);
  for (int axis = -3; axis < 3; ++axis)
    for (int largest = 0; largest < 2; ++largest) {
      const int a = axis < 0 ? axis + 3 : axis;
      const int64_t n = x.dim(a);
      for (int64_t k : {int64_t{0}, int64_t{1}, n / 2, n}) {
        auto ref = [&](const std::vector<Tensor>& in) {
          const Tensor& t = in[0];
          Shape os = t.shape();
          os[a] = k;
          Tensor v(DType::kFloat32, os), ix(DType::kInt64, os);
          int64_t outer = 1, inner = 1;
          for (int d = 0; d < a; ++d) outer *= t.dim(d);
          for (int d = a + 1; d < 3; ++d) inner *= t.dim(d);
          for (int64_t o = 0; o < outer; ++o)
            for (int64_t i = 0; i < inner; ++i) {
              std::vector<int64_t> ord(n);
              std::iota(ord.begin(), ord.end(), 0);
              auto at = [&](int64_t j) { return t.data<float>()[(o * n + j) * inner + i]; };
              std::stable_sort(ord.begin(), ord.end(), [&](int64_t p, int64_t q) { return largest ? at(p) > at(q) : at(p) < at(q); });
              for (int64_t r = 0; r < k; ++r) {
                v.data<float>()[(o * k + r) * inner + i] = at(ord[r]);
                ix.data<int64_t>()[(o * k + r) * inner + i] = ord[r];
              }
            }
          return std::vector<Tensor>{v, ix};
        };
        EXPECT_TRUE(CheckOp(OpCase("TopK").Attr("axis", IntAttr(axis)).Attr("largest", IntAttr(largest)).Outputs(2)
                                .Inputs({x, Tensor::FromInt64s({1}, {k})}).Reference(ref, Tol::Exact())
                                .Label("axis=" + std::to_string(axis) + " largest=" + std::to_string(largest) +
                                       " k=" + std::to_string(k))));
      }
    }
}

TEST(TopK, Opset7KAttributeTiesAndErrors) {
  Tensor x = Tensor::FromFloats({2, 4}, {1, 3, 3, 2, 7, NAN, 7, 0});
  EXPECT_TRUE(CheckOp(OpCase("TopK", 7).Attr("k", IntAttr(2)).Outputs(2).Input(x)
                          .Expect(0, Tensor::FromFloats({2, 2}, {3, 3, NAN, 7}))
                          .Expect(1, Tensor::FromInt64s({2, 2}, {1, 2, 1, 0}))));
  EXPECT_TRUE(CheckOp(OpCase("TopK").Attr("largest", IntAttr(0)).Outputs(2).Inputs({x, Tensor::FromInt64s({1}, {3})})
                          .Expect(0, Tensor::FromFloats({2, 3}, {1, 2, 3, 0, 7, 7}))
                          .Expect(1, Tensor::FromInt64s({2, 3}, {0, 3, 1, 3, 0, 2}))));
  EXPECT_FALSE(RunOp(OpCase("TopK").Outputs(2).Inputs({x, Tensor::FromInt64s({1}, {5})})).ok());
  EXPECT_FALSE(RunOp(OpCase("TopK").Outputs(2).Inputs({x, Tensor::FromInt64s({1}, {-1})})).ok());
  EXPECT_FALSE(RunOp(OpCase("TopK", 7).Outputs(2).Input(x)).ok());  // no k
  auto info = InferOp(OpCase("TopK").Outputs(2), {Info(DType::kFloat32, {2, -1}), Info(DType::kInt64, {1})});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*info)[0].shape, (Shape{2, -1}));
  EXPECT_EQ((*info)[1].dtype, DType::kInt64);
}

}  // namespace
}  // namespace dopt
