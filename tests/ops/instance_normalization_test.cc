#include <cmath>

#include "check_op.h"

namespace dopt {
namespace {

using namespace optest;

TEST(InstanceNormalizationOp, MatchesFormula) {
  Tensor x = Random({2, 3, 4, 5}, 81, -2.f, 3.f), s = Random({3}, 82), b = Random({3}, 83);
  std::vector<float> ref(x.numel());
  for (int64_t p = 0; p < 6; ++p) {
    const float* xi = x.data<float>() + p * 20;
    double m = 0, v = 0;
    for (int i = 0; i < 20; ++i) m += xi[i];
    m /= 20;
    for (int i = 0; i < 20; ++i) v += (xi[i] - m) * (xi[i] - m);
    v /= 20;
    for (int i = 0; i < 20; ++i)
      ref[p * 20 + i] = (float)((xi[i] - m) / std::sqrt(v + 1e-2) * s.data<float>()[p % 3] + b.data<float>()[p % 3]);
  }
  EXPECT_TRUE(CheckOp(OpCase("InstanceNormalization", 6)
                          .Attr("epsilon", FloatAttr(1e-2f))
                          .Inputs({x, s, b})
                          .Expect(Tensor::FromFloats(x.shape(), ref), Tol::Near(1e-5))));
}

TEST(InstanceNormalizationOp, Errors) {
  std::vector<ValueInfo> ins = {Info(DType::kFloat32, {1, 3, 2}), Info(DType::kFloat32, {4}), Info(DType::kFloat32, {3})};
  EXPECT_FALSE(InferOp(OpCase("InstanceNormalization"), ins).ok());
  ins[1] = Info(DType::kFloat32, {3});
  EXPECT_TRUE(InferOp(OpCase("InstanceNormalization"), ins).ok());
  ins[0] = Info(DType::kFloat32, {3});
  EXPECT_FALSE(InferOp(OpCase("InstanceNormalization"), ins).ok());
}

}  // namespace
}  // namespace dopt
