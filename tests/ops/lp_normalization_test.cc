#include <cmath>

#include "check_op.h"

namespace dopt {
namespace {

using namespace optest;

TEST(LpNormalizationOp, P1AndP2AlongEachAxis) {
  Tensor x = Random({3, 4, 5}, 101);
  for (int p : {1, 2}) {
    for (int axis = 0; axis < 3; ++axis) {
      const int64_t n = x.dim(axis);
      int64_t inner = 1;
      for (int d = axis + 1; d < 3; ++d) inner *= x.dim(d);
      std::vector<float> ref(x.numel());
      const float* xp = x.data<float>();
      for (int64_t i = 0; i < x.numel(); ++i) {
        const int64_t base = i - ((i / inner) % n) * inner;
        double acc = 0;
        for (int64_t k = 0; k < n; ++k) acc += p == 1 ? std::fabs(xp[base + k * inner]) : xp[base + k * inner] * xp[base + k * inner];
        ref[i] = (float)(xp[i] / (p == 1 ? acc : std::sqrt(acc)));
      }
      EXPECT_TRUE(CheckOp(OpCase("LpNormalization")
                              .Attr("p", IntAttr(p))
                              .Attr("axis", IntAttr(axis))
                              .Input(x)
                              .Expect(Tensor::FromFloats(x.shape(), ref), Tol::Near(1e-6))
                              .Label("p " + std::to_string(p) + " axis " + std::to_string(axis))));
    }
  }
}

TEST(LpNormalizationOp, ZeroLaneGivesZeroAndBadPIsAnError) {
  Tensor x = Tensor::FromFloats({2, 2}, {0, 0, 3, -4});
  EXPECT_TRUE(CheckOp(OpCase("LpNormalization").Input(x).Expect(Tensor::FromFloats({2, 2}, {0, 0, 0.6f, -0.8f}), Tol::Near(1e-6))));
  EXPECT_FALSE(InferOp(OpCase("LpNormalization").Attr("p", IntAttr(3)), {Info(DType::kFloat32, {2, 2})}).ok());
}

}  // namespace
}  // namespace dopt
