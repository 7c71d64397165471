#include <cmath>

#include "check_op.h"

namespace dopt {
namespace {

using namespace optest;

// Row-wise reference: x as [outer, n], scale/bias of n values (already broadcast).
std::vector<Tensor> RefLayerNorm(const Tensor& x, int axis, const std::vector<float>& s, const std::vector<float>& b,
                                 float eps) {
  int64_t outer = 1;
  for (int i = 0; i < axis; ++i) outer *= x.dim(i);
  const int64_t n = x.numel() / outer;
  std::vector<float> y, mean, inv;
  for (int64_t r = 0; r < outer; ++r) {
    const float* xr = x.data<float>() + r * n;
    double m = 0, v = 0;
    for (int64_t j = 0; j < n; ++j) m += xr[j];
    m /= n;
    for (int64_t j = 0; j < n; ++j) v += (xr[j] - m) * (xr[j] - m);
    v /= n;
    const double is = 1 / std::sqrt(v + eps);
    for (int64_t j = 0; j < n; ++j) y.push_back((float)((xr[j] - m) * is * s[j] + (b.empty() ? 0 : b[j])));
    mean.push_back((float)m);
    inv.push_back((float)is);
  }
  Shape st = x.shape();
  for (size_t d = axis; d < st.size(); ++d) st[d] = 1;
  return {Tensor::FromFloats(x.shape(), y), Tensor::FromFloats(st, mean), Tensor::FromFloats(st, inv)};
}

TEST(LayerNormalizationOp, AxesAndOutputs) {
  Tensor x = Random({2, 3, 4, 5}, 61);
  for (int axis = 0; axis < 4; ++axis) {
    Shape ns(x.shape().begin() + axis, x.shape().end());
    Tensor s = Random(ns, 62), b = Random(ns, 63);
    auto ref = RefLayerNorm(x, axis, Values<float>(s), Values<float>(b), 1e-3f);
    EXPECT_TRUE(CheckOp(OpCase("LayerNormalization", 17)
                            .Attr("axis", IntAttr(axis - 4))
                            .Attr("epsilon", FloatAttr(1e-3f))
                            .Inputs({x, s, b})
                            .Outputs(3)
                            .Expect(0, ref[0], Tol::Near(1e-5))
                            .Expect(1, ref[1], Tol::Near(1e-6))
                            .Expect(2, ref[2], Tol::Near(1e-5))
                            .Label("axis " + std::to_string(axis))));
  }
}

TEST(LayerNormalizationOp, BroadcastScaleNoBias) {
  Tensor x = Random({3, 4, 5}, 71);
  Tensor s = Random({5}, 72);  // broadcast onto [4, 5]
  std::vector<float> sv;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 5; ++j) sv.push_back(s.data<float>()[j]);
  auto ref = RefLayerNorm(x, 1, sv, {}, 1e-5f);
  EXPECT_TRUE(CheckOp(OpCase("LayerNormalization", 17)
                          .Attr("axis", IntAttr(1))
                          .Inputs({x, s})
                          .Expect(ref[0], Tol::Near(1e-5))));
}

TEST(LayerNormalizationOp, Errors) {
  std::vector<ValueInfo> ins = {Info(DType::kFloat32, {2, 3}), Info(DType::kFloat32, {4})};
  EXPECT_FALSE(InferOp(OpCase("LayerNormalization", 17), ins).ok());  // Scale does not broadcast
  ins[1] = Info(DType::kFloat32, {3});
  EXPECT_TRUE(InferOp(OpCase("LayerNormalization", 17), ins).ok());
  EXPECT_FALSE(InferOp(OpCase("LayerNormalization", 17).Attr("axis", IntAttr(2)), ins).ok());
  EXPECT_FALSE(InferOp(OpCase("LayerNormalization", 17).Attr("stash_type", IntAttr(10)), ins).ok());
}

}  // namespace
}  // namespace dopt
