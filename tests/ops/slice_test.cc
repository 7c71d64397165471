#include <climits>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(Slice, NegativeStepAndClampingAndOldAttrs) {
  Tensor x = Tensor::FromFloats({2, 5}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor st = Tensor::FromInt64s({1}, {INT64_MAX});
  Tensor en = Tensor::FromInt64s({1}, {INT64_MIN});
  Tensor ax = Tensor::FromInt64s({1}, {-1});
  Tensor sp = Tensor::FromInt64s({1}, {-2});
  EXPECT_TRUE(CheckOp(OpCase("Slice", 13).Inputs({x, st, en, ax, sp}).Expect(Tensor::FromFloats({2, 3}, {4, 2, 0, 9, 7, 5}))));
  // Opset 1 attributes.
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Slice", 1).Attr("starts", IntsAttr({1, -3})).Attr("ends", IntsAttr({2, 100})).Input(x), &out));
  EXPECT_EQ(Values<float>(out[0]), (std::vector<float>{7, 8, 9}));
  // Infer gives the exact shape from constants, and -1 for unknown dims.
  Tensor s2 = Tensor::FromInt64s({1}, {1});
  Tensor e2 = Tensor::FromInt64s({1}, {-1});
  auto inf = InferOp(OpCase("Slice", 13), {Info(DType::kInt8, {-1, 5}), Info(DType::kInt64, {1}, &s2),
                                          Info(DType::kInt64, {1}, &e2), Info(DType::kInt64, {1}, &ax)});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].shape, (Shape{-1, 3}));
  Tensor zero = Tensor::FromInt64s({1}, {0});
  EXPECT_FALSE(RunOp(OpCase("Slice", 13).Inputs({x, s2, e2, ax, zero})).ok());
}

// Steps of both signs on every axis of a 3-D tensor big enough to be split, against index
// arithmetic.
TEST(Slice, StepsMatchIndexArithmetic) {
  Tensor x = Random({9, 13, 257}, 50);
  struct Case { int64_t start, end, axis, step; } cases[] = {
      {1, 8, 0, 2}, {-1, -100, 0, -3}, {0, 13, 1, 5}, {12, 0, 1, -1}, {3, 250, 2, 7}, {-2, 0, 2, -4}, {2, 3, -1, 1}};
  for (const Case& c : cases) {
    auto ref = [c](const std::vector<Tensor>& in) {
      const Tensor& t = in[0];
      const int ax = (int)(c.axis < 0 ? c.axis + 3 : c.axis);
      const int64_t n = t.dim(ax);
      auto clamp = [](int64_t v, int64_t lo, int64_t hi) { return std::min(hi, std::max(lo, v)); };
      int64_t b = c.start < 0 ? c.start + n : c.start, e = c.end < 0 ? c.end + n : c.end;
      b = c.step > 0 ? clamp(b, 0, n) : clamp(b, 0, n - 1);
      e = c.step > 0 ? clamp(e, 0, n) : clamp(e, -1, n - 1);
      std::vector<int64_t> picks;
      for (int64_t k = b; c.step > 0 ? k < e : k > e; k += c.step) picks.push_back(k);
      Shape os = t.shape();
      os[ax] = (int64_t)picks.size();
      Tensor y(DType::kFloat32, os);
      float* yp = y.data<float>();
      int64_t outer = 1, inner = 1;
      for (int d = 0; d < ax; ++d) outer *= t.dim(d);
      for (int d = ax + 1; d < 3; ++d) inner *= t.dim(d);
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t k : picks)
          for (int64_t i = 0; i < inner; ++i) *yp++ = t.data<float>()[(o * n + k) * inner + i];
      return std::vector<Tensor>{y};
    };
    EXPECT_TRUE(CheckOp(OpCase("Slice")
                            .Inputs({x, Tensor::FromInt64s({1}, {c.start}), Tensor::FromInt64s({1}, {c.end}),
                                     Tensor::FromInt64s({1}, {c.axis}), Tensor::FromInt64s({1}, {c.step})})
                            .Reference(ref, Tol::Exact())
                            .Label(std::to_string(c.start) + ":" + std::to_string(c.end) + ":" + std::to_string(c.step) +
                                   " axis " + std::to_string(c.axis))));
  }
}

// A step on the last sliced axis copies one element at a time ([3, 11], axis 1), or a block of
// 2 or 4 whole trailing elements at a time ([3, 11, 2] / [3, 11, 4]: as many bytes as one wider
// element): each element size (1, 2, 4, 8 bytes).
TEST(Slice, LastAxisStepsForEveryElementSize) {
  for (int64_t inner : {1, 2, 4})
  for (DType dt : {DType::kUInt8, DType::kInt16, DType::kFloat32, DType::kInt64}) {
    Tensor x(dt, inner == 1 ? Shape{3, 11} : Shape{3, 11, inner});
    const size_t es = DTypeSize(dt);
    auto* xb = static_cast<uint8_t*>(x.raw());
    for (size_t i = 0; i < x.nbytes(); ++i) xb[i] = (uint8_t)(i * 7 + 1);
    for (int64_t step : {2, -3}) {
      const int64_t start = step > 0 ? 1 : 10;
      std::vector<int64_t> picks;
      for (int64_t k = start; step > 0 ? k < 11 : k >= 0; k += step) picks.push_back(k);
      Tensor want(dt, inner == 1 ? Shape{3, (int64_t)picks.size()} : Shape{3, (int64_t)picks.size(), inner});
      auto* wb = static_cast<uint8_t*>(want.raw());
      const size_t row = (size_t)inner * es;
      for (int64_t r = 0; r < 3; ++r)
        for (size_t j = 0; j < picks.size(); ++j)
          std::memcpy(wb + (r * (int64_t)picks.size() + (int64_t)j) * row, xb + (r * 11 + picks[j]) * row, row);
      EXPECT_TRUE(CheckOp(OpCase("Slice")
                              .Inputs({x, Tensor::FromInt64s({1}, {start}), Tensor::FromInt64s({1}, {step > 0 ? 11 : -100}),
                                       Tensor::FromInt64s({1}, {1}), Tensor::FromInt64s({1}, {step})})
                              .Expect(want)
                              .Label(std::string(DTypeName(dt)) + " inner " + std::to_string(inner) + " step " +
                                     std::to_string(step))));
    }
  }
}

}  // namespace
}  // namespace dopt
