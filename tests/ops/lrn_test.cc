#include <cmath>

#include "check_op.h"

namespace dopt {
namespace {

using namespace optest;

Tensor RefLrn(const Tensor& x, int64_t size, float alpha, float beta, float bias) {
  const int64_t N = x.dim(0), C = x.dim(1), inner = x.numel() / (N * C);
  std::vector<float> y(x.numel());
  const float* xp = x.data<float>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < inner; ++i) {
        double sum = 0;
        for (int64_t k = c - (size - 1) / 2; k <= c + size / 2; ++k) {
          if (k < 0 || k >= C) continue;
          const double v = xp[(n * C + k) * inner + i];
          sum += v * v;
        }
        const int64_t at = (n * C + c) * inner + i;
        y[at] = (float)(xp[at] / std::pow(bias + alpha / size * sum, beta));
      }
  return Tensor::FromFloats(x.shape(), y);
}

TEST(LrnOp, OddAndEvenWindows) {
  Tensor x = Random({2, 7, 3, 2}, 121, -2.f, 2.f);
  for (int64_t size : {1, 2, 3, 4, 5, 9}) {
    EXPECT_TRUE(CheckOp(OpCase("LRN")
                            .Attr("size", IntAttr(size))
                            .Attr("alpha", FloatAttr(0.02f))
                            .Attr("beta", FloatAttr(0.6f))
                            .Attr("bias", FloatAttr(2.f))
                            .Input(x)
                            .Expect(RefLrn(x, size, 0.02f, 0.6f, 2.f), Tol::Near(1e-6))
                            .Label("size " + std::to_string(size))));
  }
  EXPECT_TRUE(CheckOp(OpCase("LRN", 1).Attr("size", IntAttr(3)).Input(x).Expect(RefLrn(x, 3, 1e-4f, 0.75f, 1.f), Tol::Near(1e-6))
                          .Label("defaults")));
}

TEST(LrnOp, Errors) {
  EXPECT_FALSE(InferOp(OpCase("LRN"), {Info(DType::kFloat32, {1, 3, 2, 2})}).ok());  // size is required
  EXPECT_FALSE(InferOp(OpCase("LRN").Attr("size", IntAttr(0)), {Info(DType::kFloat32, {1, 3, 2, 2})}).ok());
  EXPECT_FALSE(InferOp(OpCase("LRN").Attr("size", IntAttr(3)), {Info(DType::kFloat32, {3})}).ok());
}

}  // namespace
}  // namespace dopt
