// Gemm: alpha/beta/transA/transB and C broadcast against a naive loop; C optional; errors;
// edge sizes around the kernels' blocks.
#include <array>

#include "check_op.h"

namespace dopt {
namespace {

using namespace optest;

// alpha * op(A) op(B) + beta * C (C broadcast to [M, N]; absent when `c` is empty), in double.
Tensor RefGemm(const Tensor& a, const Tensor& b, const Tensor& c, bool ta, bool tb, double alpha, double beta) {
  const int64_t M = ta ? a.dim(1) : a.dim(0), K = ta ? a.dim(0) : a.dim(1), N = tb ? b.dim(0) : b.dim(1);
  Tensor y(DType::kFloat32, {M, N});
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += (double)a.data<float>()[ta ? k * M + i : i * K + k] * b.data<float>()[tb ? j * K + k : k * N + j];
      double cv = 0;
      if (!c.empty()) {
        const int64_t ci = c.rank() == 2 ? (c.dim(0) == 1 ? 0 : i) * c.dim(1) + (c.dim(1) == 1 ? 0 : j)
                           : c.rank() == 1 && c.dim(0) == N ? j : 0;
        cv = c.data<float>()[ci];
      }
      y.data<float>()[i * N + j] = (float)(alpha * acc + beta * cv);
    }
  return y;
}

TEST(GemmOp, SweepMatchesNaiveLoop) {
  uint32_t seed = 5;
  for (int64_t M : {1, 7, 64})
    for (int64_t N : {1, 13, 130})
      for (int64_t K : {3, 31})
        for (int ta = 0; ta < 2; ++ta)
          for (int tb = 0; tb < 2; ++tb)
            for (int cform = 0; cform < 5; ++cform) {
              Shape cs = cform == 0 ? Shape{} : cform == 1 ? Shape{N} : cform == 2 ? Shape{M, 1} : cform == 3 ? Shape{M, N} : Shape{1};
              Tensor a = Random(ta ? Shape{K, M} : Shape{M, K}, seed), b = Random(tb ? Shape{N, K} : Shape{K, N}, seed + 1),
                     c = Random(cs, seed + 2);
              seed += 3;
              const float alpha = 0.5f, beta = cform == 4 ? 0.f : 2.f;
              std::vector<Tensor> y;
              ASSERT_TRUE(CheckOp(OpCase("Gemm")
                                      .Attr("alpha", FloatAttr(alpha))
                                      .Attr("beta", FloatAttr(beta))
                                      .Attr("transA", IntAttr(ta))
                                      .Attr("transB", IntAttr(tb))
                                      .Inputs({a, b, c})
                                      .Expect(RefGemm(a, b, c, ta, tb, alpha, beta), Tol::Near(2e-6 * (double)K + 1e-5))
                                      .Label("M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K) +
                                             " ta=" + std::to_string(ta) + " tb=" + std::to_string(tb) + " C " +
                                             ShapeToString(cs)),
                                  &y));
              ASSERT_EQ(y[0].shape(), (Shape{M, N}));
            }
}

// M, N, K over 1, 3, 7, 8, 9, 15, 16, 17 (XNNPACK-style edges around the kernels' blocks), plus
// shapes big enough for the threaded split, within eps * K * max|a| * max|b|.
TEST(GemmOp, EdgeSizeSweep) {
  const int64_t sizes[] = {1, 3, 7, 8, 9, 15, 16, 17};
  std::vector<std::array<int64_t, 3>> shapes;
  for (int64_t M : sizes)
    for (int64_t N : sizes)
      for (int64_t K : sizes) shapes.push_back({M, N, K});
  shapes.push_back({33, 257, 65});
  shapes.push_back({129, 70, 63});
  shapes.push_back({1, 1025, 512});
  shapes.push_back({300, 17, 200});
  uint32_t seed = 500;
  for (const auto& [M, N, K] : shapes) {
    const bool ta = seed % 2, tb = (seed / 2) % 2, with_c = (seed / 4) % 2;
    Tensor a = Random(ta ? Shape{K, M} : Shape{M, K}, seed), b = Random(tb ? Shape{N, K} : Shape{K, N}, seed + 1),
           c = Random({N}, seed + 2);
    seed += 3;
    OpCase oc = OpCase("Gemm").Attr("transA", IntAttr(ta)).Attr("transB", IntAttr(tb)).Inputs({a, b});
    if (with_c) oc.Input(c);
    const double budget = 4 * 1.2e-7 * (double)K * MaxAbs(a) * MaxAbs(b) + (with_c ? 1.2e-7 : 0);
    EXPECT_TRUE(CheckOp(oc.Expect(RefGemm(a, b, with_c ? c : Tensor(), ta, tb, 1, 1), Tol::Abs(budget))
                            .Label("M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K) +
                                   " ta=" + std::to_string(ta) + " tb=" + std::to_string(tb) + (with_c ? " C" : ""))));
  }
}

TEST(GemmOp, OptionalCAndErrors) {
  Tensor a = Tensor::FromFloats({2, 2}, {1, 2, 3, 4}), b = Tensor::FromFloats({2, 2}, {5, 6, 7, 8});
  EXPECT_TRUE(CheckOp(OpCase("Gemm").Inputs({a, b}).Expect(Tensor::FromFloats({2, 2}, {19, 22, 43, 50})).Label("no C")));
  auto bad = InferOp(OpCase("Gemm"), {Info(DType::kFloat32, {2, 3}), Info(DType::kFloat32, {4, 5})});
  EXPECT_FALSE(bad.ok());
  bad = InferOp(OpCase("Gemm"), {Info(DType::kFloat32, {2, 3}), Info(DType::kFloat32, {3, 5}), Info(DType::kFloat32, {3})});
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace dopt
