#include <cmath>

#include "check_op.h"
#include "kernels/vmath.h"

namespace dopt {
namespace {
using namespace optest;

// x of shape [2, 3, 2] with values 0..11.
Tensor X() {
  std::vector<float> v(12);
  for (int i = 0; i < 12; ++i) v[i] = (float)i * 0.5f;
  return Tensor::FromFloats({2, 3, 2}, v);
}

TEST(Softmax, Opset13NormalisesAlongAxis) {
  Tensor x = X();
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Softmax", 13).Attr("axis", IntAttr(1)).Input(x), &out));
  auto y = Values<float>(out[0]);
  auto xv = Values<float>(x);
  for (int b = 0; b < 2; ++b)
    for (int w = 0; w < 2; ++w) {
      double sum = 0;
      for (int c = 0; c < 3; ++c) sum += std::exp(xv[(b * 3 + c) * 2 + w]);
      for (int c = 0; c < 3; ++c) {
        int i = (b * 3 + c) * 2 + w;
        EXPECT_NEAR(y[i], std::exp(xv[i]) / sum, 1e-6) << i;
      }
    }
}

TEST(Softmax, OldOpsetCoercesTo2D) {
  Tensor x = X();
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Softmax", 11).Input(x), &out));  // axis 1: rows of 6 elements
  auto y = Values<float>(out[0]);
  auto xv = Values<float>(x);
  for (int b = 0; b < 2; ++b) {
    double sum = 0;
    for (int k = 0; k < 6; ++k) sum += std::exp(xv[b * 6 + k]);
    for (int k = 0; k < 6; ++k) EXPECT_NEAR(y[b * 6 + k], std::exp(xv[b * 6 + k]) / sum, 1e-6);
  }
}

TEST(Softmax, LargeValuesAreStableAndThreadIndependent) {
  std::vector<float> v(4 * 5000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = 1000.f + (float)(i % 7);
  Tensor x = Tensor::FromFloats({4, 5000}, v);
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Softmax").Input(x).Threads({3}), &out));
  auto ya = Values<float>(out[0]);
  for (float f : ya) ASSERT_TRUE(std::isfinite(f));
  double sum = 0;
  for (int k = 0; k < 5000; ++k) sum += ya[k];
  EXPECT_NEAR(sum, 1.0, 1e-4);
}

// The last-axis path (kernels::SoftmaxArray) gives the bits of the one-lane formulation: max,
// x - max, the vectorised exp, a double sum over 16 interleaved partials, one float reciprocal;
// lane counts around 4, lengths around the max's 32-float steps, -inf, NaN-free and all -inf lanes.
TEST(Softmax, LastAxisLanesGiveTheOneLaneBits) {
  uint32_t seed = 3;
  for (int64_t lanes : {1, 3, 4, 5, 9})
    for (int64_t n : {1, 7, 32, 33, 100}) {
      Tensor x = Random({lanes, n}, seed++);
      float* xp = x.data<float>();
      for (int64_t i = 0; i < lanes * n; ++i) xp[i] *= 20.f;
      if (n > 1) xp[1] = -INFINITY;
      if (lanes > 2)
        for (int64_t k = 0; k < n; ++k) xp[2 * n + k] = -INFINITY;
      std::vector<float> want((size_t)(lanes * n));
      for (int64_t l = 0; l < lanes; ++l) {
        const float* xs = xp + l * n;
        float* ys = want.data() + l * n;
        float mx = -INFINITY;
        for (int64_t k = 0; k < n; ++k) mx = xs[k] > mx ? xs[k] : mx;
        if (std::isinf(mx) && mx < 0) mx = 0;
        for (int64_t k = 0; k < n; ++k) ys[k] = xs[k] - mx;
        kernels::ExpArray(ys, ys, n);
        double part[16] = {}, sum = 0;
        for (int64_t k = 0; k < n; ++k) part[k % 16] += ys[k];
        for (double p : part) sum += p;
        const float inv = (float)(1.0 / sum);
        for (int64_t k = 0; k < n; ++k) ys[k] *= inv;
      }
      std::vector<Tensor> out;
      ASSERT_TRUE(CheckOp(OpCase("Softmax").Input(x).Threads({2, 3}), &out));
      auto got = Values<float>(out[0]);
      for (size_t i = 0; i < want.size(); ++i)
        ASSERT_TRUE(got[i] == want[i] || (std::isnan(got[i]) && std::isnan(want[i])))
            << lanes << "x" << n << " i=" << i << ": " << got[i] << " vs " << want[i];
    }
}

// An axis other than the last (lanes strided by `inner`, in blocks of 512 lanes): per lane the
// max (NaN ignored), x - max, the vectorised exp, a double sum in axis order, one float
// reciprocal, bit for bit; -inf, NaN and all -inf lanes; inner sizes across the block edge.
TEST(Softmax, StridedLanesGiveTheirFormulaBits) {
  uint32_t seed = 60;
  for (int64_t inner : {3, 511, 600})
    for (int64_t n : {1, 5, 21}) {
      Tensor x = Random({2, n, inner}, seed++, -15.f, 15.f);
      float* xp = x.data<float>();
      xp[0] = -INFINITY;
      xp[inner + 1] = NAN;
      for (int64_t k = 0; k < n; ++k) xp[k * inner + inner - 1] = -INFINITY;  // lane inner-1 of image 0
      std::vector<float> want((size_t)x.numel()), row((size_t)n);
      for (int64_t o = 0; o < 2; ++o)
        for (int64_t j = 0; j < inner; ++j) {
          const float* xs = xp + o * n * inner + j;
          float mx = -INFINITY;
          for (int64_t k = 0; k < n; ++k) mx = std::max(mx, xs[k * inner]);
          if (std::isinf(mx) && mx < 0) mx = 0;
          for (int64_t k = 0; k < n; ++k) row[(size_t)k] = xs[k * inner] - mx;
          kernels::ExpArray(row.data(), row.data(), n);
          double sum = 0;
          for (int64_t k = 0; k < n; ++k) sum += row[(size_t)k];
          const float inv = (float)(1.0 / sum);
          for (int64_t k = 0; k < n; ++k) want[(size_t)(o * n * inner + k * inner + j)] = row[(size_t)k] * inv;
        }
      std::vector<Tensor> out;
      ASSERT_TRUE(CheckOp(OpCase("Softmax").Attr("axis", IntAttr(1)).Input(x).Threads({2, 3}), &out));
      auto got = Values<float>(out[0]);
      for (size_t i = 0; i < want.size(); ++i)
        ASSERT_TRUE(got[i] == want[i] || (std::isnan(got[i]) && std::isnan(want[i])))
            << n << "x" << inner << " i=" << i << ": " << got[i] << " vs " << want[i];
    }
}

// Every axis of a 3-D tensor with many lanes, against a double-precision softmax.
TEST(Softmax, EveryAxisMatchesDoubleReference) {
  Tensor x = Random({7, 33, 65}, 30, -8.f, 8.f);
  for (int axis = -3; axis < 3; ++axis) {
    auto ref = [axis](const std::vector<Tensor>& in) {
      const Tensor& t = in[0];
      const int ax = axis < 0 ? axis + 3 : axis;
      int64_t outer = 1, inner = 1;
      for (int d = 0; d < ax; ++d) outer *= t.dim(d);
      for (int d = ax + 1; d < 3; ++d) inner *= t.dim(d);
      const int64_t n = t.dim(ax);
      Tensor y(DType::kFloat32, t.shape());
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          double mx = -INFINITY, sum = 0;
          for (int64_t k = 0; k < n; ++k) mx = std::max(mx, (double)t.data<float>()[(o * n + k) * inner + i]);
          for (int64_t k = 0; k < n; ++k) sum += std::exp(t.data<float>()[(o * n + k) * inner + i] - mx);
          for (int64_t k = 0; k < n; ++k)
            y.data<float>()[(o * n + k) * inner + i] = (float)(std::exp(t.data<float>()[(o * n + k) * inner + i] - mx) / sum);
        }
      return std::vector<Tensor>{y};
    };
    EXPECT_TRUE(CheckOp(OpCase("Softmax").Attr("axis", IntAttr(axis)).Input(x).Reference(ref, Tol::Near(2e-6))
                            .Label("axis " + std::to_string(axis))));
  }
}

TEST(Softmax, RejectsBadAxisAndIntInput) {
  EXPECT_FALSE(InferOp(OpCase("Softmax").Attr("axis", IntAttr(3)), {Info(DType::kFloat32, {2, 3})}).ok());
  EXPECT_FALSE(InferOp(OpCase("Softmax"), {Info(DType::kInt32, {2, 3})}).ok());
  EXPECT_TRUE(InferOp(OpCase("Softmax"), {UnknownRank(DType::kFloat32)}).ok());
}

}  // namespace
}  // namespace dopt
