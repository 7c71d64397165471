#include "check_op.h"
#include "common/kernel_options.h"

namespace dopt {
namespace {
using namespace optest;

OpCase Einsum(const std::string& eq) { return OpCase("Einsum").Attr("equation", StringAttr(eq)); }

// Batched matmul with a broadcast batch dim: a [B or 1, M, K] x b [B, K, N].
std::vector<Tensor> RefBatchMatMul(const std::vector<Tensor>& in) {
  const Tensor& a = in[0];
  const Tensor& b = in[1];
  const int64_t B = b.dim(0), M = a.dim(1), K = a.dim(2), N = b.dim(2);
  Tensor y(DType::kFloat32, {B, M, N});
  for (int64_t bi = 0; bi < B; ++bi)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double s = 0;
        for (int64_t k = 0; k < K; ++k)
          s += (double)a.data<float>()[((a.dim(0) == 1 ? 0 : bi) * M + m) * K + k] * b.data<float>()[(bi * K + k) * N + n];
        y.data<float>()[(bi * M + m) * N + n] = (float)s;
      }
  return {y};
}

TEST(EinsumOp, SmallExamples) {
  Tensor a = Tensor::FromFloats({2, 3}, {0, 1, 2, 3, 4, 5});
  Tensor b = Tensor::FromFloats({3, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  Tensor c = Tensor::FromFloats({3, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8});
  const Tol t = Tol::Near(1e-6);
  EXPECT_TRUE(CheckOp(Einsum("ij,jk->ik").Inputs({a, b}).Expect(Tensor::FromFloats({2, 4}, {20, 23, 26, 29, 56, 68, 80, 92}), t)));
  EXPECT_TRUE(CheckOp(Einsum("ij,jk").Inputs({a, b}).Expect(Tensor::FromFloats({2, 4}, {20, 23, 26, 29, 56, 68, 80, 92}), t)));
  EXPECT_TRUE(CheckOp(Einsum("ii").Input(c).Expect(Tensor::FromFloats({}, {12}), t)));
  EXPECT_TRUE(CheckOp(Einsum("ii->i").Input(c).Expect(Tensor::FromFloats({3}, {0, 4, 8}), t)));
  EXPECT_TRUE(CheckOp(Einsum("ij->").Input(a).Expect(Tensor::FromFloats({}, {15}), t)));
  EXPECT_TRUE(CheckOp(Einsum("ba").Input(a).Expect(Tensor::FromFloats({3, 2}, {0, 3, 1, 4, 2, 5}), t)));   // implicit: "ab"
  EXPECT_TRUE(CheckOp(Einsum("Ba").Input(a).Expect(a, t)));                                                // 'B' < 'a'
  EXPECT_TRUE(CheckOp(Einsum(" i , j -> i j").Inputs({Tensor::FromFloats({2}, {1, 2}), Tensor::FromFloats({3}, {1, 10, 100})})
                          .Expect(Tensor::FromFloats({2, 3}, {1, 10, 100, 2, 20, 200}), t)));
  EXPECT_TRUE(CheckOp(Einsum("i,i").Inputs({Tensor::FromFloats({3}, {1, 2, 3}), Tensor::FromFloats({3}, {4, 5, 6})})
                          .Expect(Tensor::FromFloats({}, {32}), t)));
  // Three operands, and integers.
  Tensor ia = Make<int64_t>(DType::kInt64, {2, 2}, {1, 2, 3, 4});
  EXPECT_TRUE(CheckOp(Einsum("ij,jk,kl->il").Inputs({ia, ia, ia}).Expect(Make<int64_t>(DType::kInt64, {2, 2}, {37, 54, 81, 118}))));
  // Integer overflow wraps (two's complement), as numpy's.
  Tensor big = Make<int64_t>(DType::kInt64, {2}, {INT64_MAX, 2});
  EXPECT_TRUE(CheckOp(Einsum("i,i->").Inputs({big, Make<int64_t>(DType::kInt64, {2}, {2, 1})})
                          .Expect(Make<int64_t>(DType::kInt64, {}, {0}))));
  Tensor i32 = Make<int32_t>(DType::kInt32, {2, 2}, {1, 2, 3, 4});
  EXPECT_TRUE(CheckOp(Einsum("ij->ji").Input(i32).Expect(Make<int32_t>(DType::kInt32, {2, 2}, {1, 3, 2, 4}))));
}

TEST(EinsumOp, EllipsisBroadcastAndDiagonals) {
  // "...ij,...jk->...ik" with a broadcast batch dim, against a direct batched matmul.
  Tensor a = Random({1, 5, 7}, 3), b = Random({4, 7, 6}, 4);
  EXPECT_TRUE(CheckOp(Einsum("...ij,...jk->...ik").Inputs({a, b}).Reference(RefBatchMatMul, Tol::Near(1e-5))));
  EXPECT_TRUE(CheckOp(Einsum("bij,bjk->bik").Inputs({Random({4, 5, 7}, 5), b}).Reference(RefBatchMatMul, Tol::Near(1e-5))));
  // Implicit output with "...": the ellipsis dims come first.
  Tensor d = Random({2, 3, 4}, 6);
  auto transpose_last = [](const std::vector<Tensor>& in) {
    Tensor y(DType::kFloat32, {2, 4, 3});
    for (int n = 0; n < 2; ++n)
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 4; ++j) y.data<float>()[(n * 4 + j) * 3 + i] = in[0].data<float>()[(n * 3 + i) * 4 + j];
    return std::vector<Tensor>{y};
  };
  EXPECT_TRUE(CheckOp(Einsum("...ij->...ji").Input(d).Reference(transpose_last, Tol::Exact())));
  EXPECT_TRUE(CheckOp(Einsum("...ba").Input(d).Reference(transpose_last, Tol::Exact())));
  // Batch diagonal "...ii->...i" and a trace over a middle pair.
  Tensor e = Random({3, 5, 5}, 7);
  auto diag = [](const std::vector<Tensor>& in) {
    Tensor y(DType::kFloat32, {3, 5});
    for (int n = 0; n < 3; ++n)
      for (int i = 0; i < 5; ++i) y.data<float>()[n * 5 + i] = in[0].data<float>()[(n * 5 + i) * 5 + i];
    return std::vector<Tensor>{y};
  };
  EXPECT_TRUE(CheckOp(Einsum("...ii->...i").Input(e).Reference(diag, Tol::Exact())));
  Tensor f = Random({4, 6, 4}, 8);
  auto trace = [](const std::vector<Tensor>& in) {
    Tensor y(DType::kFloat32, {6});
    for (int j = 0; j < 6; ++j) {
      double s = 0;
      for (int i = 0; i < 4; ++i) s += in[0].data<float>()[(i * 6 + j) * 4 + i];
      y.data<float>()[j] = (float)s;
    }
    return std::vector<Tensor>{y};
  };
  EXPECT_TRUE(CheckOp(Einsum("iji->j").Input(f).Reference(trace, Tol::Near(1e-6))));
  // Large enough to split across threads.
  Tensor g = Random({8, 40, 30}, 9), h = Random({8, 30, 50}, 10);
  EXPECT_TRUE(CheckOp(Einsum("bmk,bkn->bmn").Inputs({g, h}).Reference(RefBatchMatMul, Tol::Near(1e-5))));
}

// Two-input float einsums of the batched-GEMM form (batch, row, column and contracted labels,
// inputs as they are, transposed or permuted, outputs in any order) against the general kernel
// (the reference kernels forced), and one with a label summed in one input alone (general).
TEST(EinsumOp, GemmFormsMatchTheGeneralKernel) {
  struct Case {
    const char* eq;
    Shape a, b;
  };
  const Case cases[] = {
      {"bhlk,bhtk->bhlt", {1, 3, 37, 16}, {1, 3, 29, 16}},  // attention scores: B transposed
      {"bhlt,bhtv->bhlv", {1, 3, 37, 29}, {1, 3, 29, 16}},  // attention values
      {"bkm,bkn->bmn", {2, 9, 15}, {2, 9, 17}},               // A transposed
      {"ij,kj->ki", {16, 12}, {20, 12}},                        // output transposed
      {"abc,cd->dba", {6, 8, 10}, {10, 7}},                   // permuted output, rows from two labels
      {"i,j->ij", {40}, {30}},                                // outer product (no contraction)
      {"bik,kbj->bji", {2, 13, 11}, {11, 2, 17}},               // permuted B and output
      {"ij,jk->i", {3, 4}, {4, 5}},                         // k summed within B alone: general kernel
      {"bhld,bhld->bhl", {1, 2, 33, 8}, {1, 2, 33, 8}},     // one element per product: general kernel
  };
  uint32_t seed = 70;
  const bool saved = ReferenceKernelsForced();
  for (const Case& c : cases) {
    Tensor a = Random(c.a, seed++), b = Random(c.b, seed++);
    std::vector<Tensor> ref, got;
    SetReferenceKernelsForced(true);
    ASSERT_TRUE(CheckOp(Einsum(c.eq).Inputs({a, b}), &ref)) << c.eq;
    SetReferenceKernelsForced(saved);
    ASSERT_TRUE(CheckOp(Einsum(c.eq).Inputs({a, b}).Threads({2, 3}), &got)) << c.eq;
    ASSERT_EQ(got[0].shape(), ref[0].shape()) << c.eq;
    for (int64_t i = 0; i < got[0].numel(); ++i)
      ASSERT_NEAR(got[0].data<float>()[i], ref[0].data<float>()[i], 1e-5) << c.eq << " i=" << i;
  }
}

TEST(EinsumOp, ShapeRuleAndErrors) {
  auto inf = InferOp(Einsum("...ij,jk->...ik"), {Info(DType::kFloat32, {-1, 2, 3}), Info(DType::kFloat32, {3, 5})});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].shape, (Shape{-1, 2, 5}));
  inf = InferOp(Einsum("ij,jk"), {UnknownRank(DType::kFloat32), Info(DType::kFloat32, {3, 5})});
  ASSERT_TRUE(inf.ok());
  EXPECT_FALSE((*inf)[0].rank_known);
  EXPECT_FALSE(InferOp(Einsum("ij,jk"), {Info(DType::kFloat32, {2, 3}), Info(DType::kFloat32, {4, 5})}).ok());  // j: 3 vs 4
  EXPECT_FALSE(InferOp(Einsum("ij"), {Info(DType::kFloat32, {2, 3, 4})}).ok());                                // rank
  EXPECT_FALSE(InferOp(Einsum("ij,jk"), {Info(DType::kFloat32, {2, 3})}).ok());                                // term count
  EXPECT_FALSE(InferOp(Einsum("ij->ik"), {Info(DType::kFloat32, {2, 3})}).ok());                               // k unknown
  EXPECT_FALSE(InferOp(Einsum("ij->ii"), {Info(DType::kFloat32, {2, 2})}).ok());                               // repeated
  EXPECT_FALSE(InferOp(Einsum("i.j"), {Info(DType::kFloat32, {2, 2})}).ok());
  EXPECT_FALSE(InferOp(Einsum("i1"), {Info(DType::kFloat32, {2, 2})}).ok());
  EXPECT_FALSE(InferOp(Einsum("ii"), {Info(DType::kFloat32, {2, 3})}).ok());                                   // diagonal sizes
  EXPECT_FALSE(InferOp(OpCase("Einsum"), {Info(DType::kFloat32, {2, 3})}).ok());                               // no equation
  EXPECT_FALSE(InferOp(Einsum("i,i"), {Info(DType::kFloat32, {2}), Info(DType::kInt64, {2})}).ok());
}

}  // namespace
}  // namespace dopt
