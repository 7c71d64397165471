#include <cmath>

#include "check_op.h"

namespace dopt {
namespace {

using namespace optest;

// Reference over a 4-D x [A, B, C, D] with `reduced` dims.
Tensor RefMvn(const Tensor& x, const std::vector<bool>& reduced) {
  const Shape& s = x.shape();
  std::vector<float> y(x.numel());
  auto idx = [&](int64_t a, int64_t b, int64_t c, int64_t d) { return ((a * s[1] + b) * s[2] + c) * s[3] + d; };
  for (int64_t a = 0; a < s[0]; ++a)
    for (int64_t b = 0; b < s[1]; ++b)
      for (int64_t c = 0; c < s[2]; ++c)
        for (int64_t d = 0; d < s[3]; ++d) {
          const int64_t k[4] = {a, b, c, d};
          double m = 0, v = 0, n = 0;
          for (int64_t a2 = 0; a2 < s[0]; ++a2)
            for (int64_t b2 = 0; b2 < s[1]; ++b2)
              for (int64_t c2 = 0; c2 < s[2]; ++c2)
                for (int64_t d2 = 0; d2 < s[3]; ++d2) {
                  const int64_t k2[4] = {a2, b2, c2, d2};
                  bool same = true;
                  for (int i = 0; i < 4; ++i) same = same && (reduced[i] || k[i] == k2[i]);
                  if (!same) continue;
                  const double xv = x.data<float>()[idx(a2, b2, c2, d2)];
                  m += xv;
                  v += xv * xv;
                  n += 1;
                }
          m /= n;
          v = v / n - m * m;
          y[idx(a, b, c, d)] = (float)((x.data<float>()[idx(a, b, c, d)] - m) / (std::sqrt(std::max(v, 0.0)) + 1e-9));
        }
  return Tensor::FromFloats(s, y);
}

TEST(MeanVarianceNormalizationOp, DefaultAndOtherAxes) {
  Tensor x = Random({2, 3, 4, 3}, 111, -1.f, 3.f);
  EXPECT_TRUE(CheckOp(OpCase("MeanVarianceNormalization", 13).Input(x).Expect(RefMvn(x, {true, false, true, true}), Tol::Near(1e-5))));
  EXPECT_TRUE(CheckOp(OpCase("MeanVarianceNormalization", 13)
                          .Attr("axes", IntsAttr({1, -1}))
                          .Input(x)
                          .Expect(RefMvn(x, {false, true, false, true}), Tol::Near(1e-5))
                          .Label("axes 1, -1")));
  EXPECT_TRUE(CheckOp(OpCase("MeanVarianceNormalization", 9)
                          .Attr("axes", IntsAttr({0, 1, 2, 3}))
                          .Input(x)
                          .Expect(RefMvn(x, {true, true, true, true}), Tol::Near(1e-5))
                          .Label("all axes")));
}

TEST(MeanVarianceNormalizationOp, Errors) {
  EXPECT_FALSE(InferOp(OpCase("MeanVarianceNormalization").Attr("axes", IntsAttr({1, 1})), {Info(DType::kFloat32, {2, 2})}).ok());
  EXPECT_FALSE(InferOp(OpCase("MeanVarianceNormalization"), {Info(DType::kFloat32, {2, 2})}).ok());  // default axes need rank 4
}

}  // namespace
}  // namespace dopt
