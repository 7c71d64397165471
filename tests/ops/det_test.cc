// Det against cofactor expansion (an independent formula) for batches of random matrices up to
// 5x5; known values (identity, singular, a row swap); error cases.
#include <cmath>

#include "check_op.h"

namespace dopt {
namespace {

using namespace optest;

double Cofactor(const std::vector<double>& a, int64_t m) {
  if (m == 0) return 1.0;
  if (m == 1) return a[0];
  double det = 0;
  for (int64_t c = 0; c < m; ++c) {
    std::vector<double> minor;
    for (int64_t r = 1; r < m; ++r)
      for (int64_t k = 0; k < m; ++k)
        if (k != c) minor.push_back(a[r * m + k]);
    det += (c % 2 ? -1.0 : 1.0) * a[c] * Cofactor(minor, m - 1);
  }
  return det;
}

std::vector<Tensor> RefDet(const std::vector<Tensor>& in) {
  const Tensor& x = in[0];
  const int64_t m = x.dim(x.rank() - 1);
  Tensor y(DType::kFloat32, Shape(x.shape().begin(), x.shape().end() - 2));
  for (int64_t b = 0; b < y.numel(); ++b) {
    std::vector<double> a(x.data<float>() + b * m * m, x.data<float>() + (b + 1) * m * m);
    y.data<float>()[b] = (float)Cofactor(a, m);
  }
  return {y};
}

TEST(Det, RandomBatchesMatchCofactorExpansion) {
  uint32_t seed = 40;
  for (int64_t m = 1; m <= 5; ++m)
    for (const Shape& batch : {Shape{}, Shape{3}, Shape{2, 4}}) {
      Shape s = batch;
      s.push_back(m);
      s.push_back(m);
      EXPECT_TRUE(CheckOp(OpCase("Det").Input(Random(s, ++seed, -2.f, 2.f)).Reference(RefDet, Tol::Near(1e-5))
                              .Label(ShapeToString(s))));
    }
  // Many matrices, split across threads.
  EXPECT_TRUE(CheckOp(OpCase("Det").Input(Random({600, 3, 3}, 99)).Reference(RefDet, Tol::Near(1e-5)).Label("600x3x3")));
}

TEST(Det, KnownValues) {
  Tensor x = Tensor::FromFloats({3, 3, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1,     // identity: 1
                                            1, 2, 3, 2, 4, 6, 0, 1, 1,     // two proportional rows: 0
                                            0, 1, 0, 1, 0, 0, 0, 0, 2});   // row swap, scale 2: -2
  EXPECT_TRUE(CheckOp(OpCase("Det").Input(x).Expect(Tensor::FromFloats({3}, {1, 0, -2}), Tol::Abs(1e-6))));
  // The ONNX example.
  EXPECT_TRUE(CheckOp(OpCase("Det").Input(Tensor::FromFloats({2, 2}, {1, 2, 3, 4}))
                          .Expect(Tensor::FromFloats({}, {-2}), Tol::Abs(1e-6))));
}

TEST(Det, Errors) {
  auto r = RunOp(OpCase("Det").Input(Random({2, 3}, 1)));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("node 'n'"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("square"), std::string::npos) << r.status().message();
  EXPECT_FALSE(InferOp(OpCase("Det"), {Info(DType::kFloat32, {4})}).ok());
  EXPECT_FALSE(InferOp(OpCase("Det"), {Info(DType::kInt32, {2, 2})}).ok());
  auto ok = InferOp(OpCase("Det"), {Info(DType::kFloat32, {-1, 5, -1})});
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ((*ok)[0].shape, (Shape{-1}));
}

}  // namespace
}  // namespace dopt
