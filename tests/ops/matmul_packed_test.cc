// MatMul / Gemm with a constant weight prepacked once per executor (kernels/gemm_packed.h,
// ops/packed_weight.h): sizes around oneDNN's blocks against SgemmReference, bit-identical
// results for 1, 2 and 3 threads, a weight changed in place, the reference-kernel fallback.
#include <cmath>
#include <cstdlib>

#include "check_op.h"
#include "common/kernel_options.h"
#include "executor/executor.h"
#include "kernels/gemm.h"
#include "kernels/gemm_packed.h"
#include "kernels/clones.h"
#include "kernels/gemv.h"
#include "ops/shape_inference.h"

namespace dopt {
namespace {

using namespace optest;

// The kernel alone: PackGemmB + SgemmPackedB against SgemmReference, and per thread count.
TEST(GemmPacked, SweepAgainstReference) {
  if (ReferenceKernelsForced()) GTEST_SKIP() << "reference kernels forced";
  const char* off = std::getenv("DOPT_MATMUL_ONEDNN");
  if (off && std::string(off) == "0") GTEST_SKIP() << "DOPT_MATMUL_ONEDNN=0";
  const int64_t Ms[] = {1, 17, 32, 97, 777};  // 777: row blocks too (K x N of 96 x 384, 77 x 1031)
  const int64_t NKs[][2] = {{1, 1}, {7, 13}, {64, 64}, {65, 31}, {129, 255}, {300, 17}, {768, 96}, {384, 96}, {1031, 77}};
  ThreadPool p1(1), p2(2), p3(3);
  uint32_t seed = 1;
  for (bool trans_b : {false, true})
    for (const auto& nk : NKs)
      for (int64_t M : Ms) {
        const int64_t N = nk[0], K = nk[1];
        const std::vector<float> A = RandomFloats((size_t)(M * K), seed++);
        const std::vector<float> B = RandomFloats((size_t)(K * N), seed++);
        const std::vector<float> C0 = RandomFloats((size_t)(M * N), seed++);
        const int64_t ldb = trans_b ? K : N;
        auto packed = kernels::PackGemmB(trans_b, K, N, B.data(), ldb, M);
        // oneDNN may offer only its reference loops for odd shapes on some CPUs: declined.
        const bool must = M == 32 && N >= 64 && K >= 64;
        if (!must && !packed) continue;
        ASSERT_TRUE(packed) << "M" << M << " N" << N << " K" << K;
        for (float alpha : {1.f, 0.5f})
          for (float beta : {0.f, 1.f}) {
            std::vector<float> ref = C0;
            kernels::SgemmReference(false, trans_b, M, N, K, alpha, A.data(), K, B.data(), ldb, beta, ref.data(), N);
            std::vector<float> got[3];
            ThreadPool* pools[3] = {&p1, &p2, &p3};
            bool ran = true;
            for (int t = 0; t < 3 && ran; ++t) {
              got[t] = C0;
              ran = kernels::SgemmPackedB(pools[t], *packed, M, alpha, A.data(), K, beta, got[t].data(), N);
              if (t > 0 || must) {
                ASSERT_TRUE(ran) << "M" << M << " N" << N << " K" << K << " threads " << t + 1;
              }
            }
            if (!ran) {
              EXPECT_EQ(0, std::memcmp(got[0].data(), C0.data(), C0.size() * 4)) << "declined but wrote C";
              continue;
            }
            double err = 0, mag = 1e-6;
            for (size_t i = 0; i < ref.size(); ++i) {
              err = std::max(err, (double)std::fabs(got[0][i] - ref[i]));
              mag = std::max(mag, (double)std::fabs(ref[i]));
            }
            const std::string what = "M" + std::to_string(M) + " N" + std::to_string(N) + " K" + std::to_string(K) +
                                     (trans_b ? " transB" : "") + " alpha " + std::to_string(alpha) + " beta " +
                                     std::to_string(beta);
            EXPECT_LE(err, 1e-6 * (double)K * mag + 1e-6) << what;
            // oneDNN's optimised kernel, not its reference loops (which decline strided results).
            EXPECT_EQ(packed->Describe().rfind("ref", 0), std::string::npos) << what << ": " << packed->Describe();
            EXPECT_EQ(0, std::memcmp(got[0].data(), got[1].data(), got[0].size() * 4)) << what << " 1 vs 2 threads";
            EXPECT_EQ(0, std::memcmp(got[0].data(), got[2].data(), got[0].size() * 4)) << what << " 1 vs 3 threads";
          }
      }
}

// One packed operand used with many row counts (a dynamic sequence length): each M's result
// never depends on the calls before it (no fallback to OpenBLAS after the 16th distinct M).
TEST(GemmPacked, ManyRowCountsGiveTheSameBitsAsAFreshOperand) {
  if (ReferenceKernelsForced()) GTEST_SKIP() << "reference kernels forced";
  const char* off = std::getenv("DOPT_MATMUL_ONEDNN");
  if (off && std::string(off) == "0") GTEST_SKIP() << "DOPT_MATMUL_ONEDNN=0";
  const int64_t K = 96, N = 128;
  const std::vector<float> B = RandomFloats((size_t)(K * N), 5);
  const std::vector<float> A = RandomFloats((size_t)(40 * K), 6);
  auto used = kernels::PackGemmB(false, K, N, B.data(), N, 32);
  ASSERT_TRUE(used);
  ThreadPool pool(2);
  std::vector<float> c((size_t)(40 * N));
  for (int64_t M = 1; M <= 20; ++M) ASSERT_TRUE(kernels::SgemmPackedB(&pool, *used, M, 1.f, A.data(), K, 0.f, c.data(), N));
  for (int64_t M : {21, 3, 32}) {
    auto fresh = kernels::PackGemmB(false, K, N, B.data(), N, 32);
    std::vector<float> a((size_t)(M * N)), b((size_t)(M * N));
    ASSERT_TRUE(kernels::SgemmPackedB(&pool, *used, M, 1.f, A.data(), K, 0.f, a.data(), N)) << M;
    ASSERT_TRUE(kernels::SgemmPackedB(&pool, *fresh, M, 1.f, A.data(), K, 0.f, b.data(), N)) << M;
    EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * 4)) << "M " << M;
  }
}

// One row against a constant B [N, K] (kernels/gemv.h): sizes around the vector widths, the
// 4-row groups and the 256-output blocks, against SgemmReference, bit-identical for 1, 2 and 3
// threads; B [K, N] is declined.
TEST(Gemv, SweepAgainstReference) {
  ThreadPool p1(1), p2(2), p3(3);
  uint32_t seed = 300;
  for (bool trans_b : {false, true})
    for (int64_t K : {1, 7, 16, 17, 131, 1280})
      for (int64_t N : {1, 3, 4, 5, 17, 128, 129, 255, 257, 1000}) {
        const std::vector<float> A = RandomFloats((size_t)K, seed++);
        const std::vector<float> B = RandomFloats((size_t)(K * N), seed++);
        const std::vector<float> C0 = RandomFloats((size_t)N, seed++);
        const int64_t ldb = trans_b ? K : N;
        for (float alpha : {1.f, 0.5f})
          for (float beta : {0.f, 1.f}) {
            std::vector<float> ref = C0, got[3];
            kernels::SgemmReference(false, trans_b, 1, N, K, alpha, A.data(), K, B.data(), ldb, beta, ref.data(), N);
            ThreadPool* pools[3] = {&p1, &p2, &p3};
            const std::string what = "N" + std::to_string(N) + " K" + std::to_string(K) + (trans_b ? " transB" : "") +
                                     " alpha " + std::to_string(alpha) + " beta " + std::to_string(beta);
            for (int t = 0; t < 3; ++t) {
              got[t] = C0;
              const bool ran = kernels::SgemvConstantB(pools[t], trans_b, K, N, alpha, A.data(), B.data(), ldb, beta,
                                                       got[t].data());
              if (!ran) {  // [K, N], no AVX2 + FMA, or the reference kernels forced: C untouched
                EXPECT_EQ(0, std::memcmp(got[t].data(), C0.data(), C0.size() * 4)) << what;
                got[t] = ref;
              }
            }
            double err = 0, mag = 1e-6;
            for (size_t i = 0; i < ref.size(); ++i) {
              err = std::max(err, (double)std::fabs(got[0][i] - ref[i]));
              mag = std::max(mag, (double)std::fabs(ref[i]));
            }
            EXPECT_LE(err, 1e-6 * (double)K * mag + 1e-6) << what;
            EXPECT_EQ(0, std::memcmp(got[0].data(), got[1].data(), got[0].size() * 4)) << what << " 1 vs 2 threads";
            EXPECT_EQ(0, std::memcmp(got[0].data(), got[2].data(), got[0].size() * 4)) << what << " 1 vs 3 threads";
          }
      }
  if (!ReferenceKernelsForced() && kernels::CpuSimdIsa() != kernels::SimdIsa::kBase) {
    std::vector<float> x(8, 1.f), B(64, 1.f), y(8, 0.f);
    EXPECT_TRUE(kernels::SgemvConstantB(nullptr, true, 8, 8, 1.f, x.data(), B.data(), 8, 0.f, y.data()));
    EXPECT_EQ(y[3], 8.f);
    EXPECT_FALSE(kernels::SgemvConstantB(nullptr, false, 8, 8, 1.f, x.data(), B.data(), 8, 0.f, y.data()));
  }
}

TEST(GemmPacked, DeclinesWhenReferenceForced) {
  const bool was = ReferenceKernelsForced();
  SetReferenceKernelsForced(true);
  std::vector<float> B(64 * 64, 1.f);
  EXPECT_FALSE(kernels::PackGemmB(false, 64, 64, B.data(), 64, 8));
  SetReferenceKernelsForced(was);
}

// y = x * W (MatMul, x [batch..., M, K]) or Gemm(x, W, C) with W and C initializers.
struct Net {
  Graph g;
  int w = -1;
};

Net MatMulNet(const Shape& x, const Tensor& w) {
  Net n;
  AddTestInput(n.g, "x", DType::kFloat32, x);
  n.w = AddTestValue(n.g, "w", w);
  int y = AddTestValue(n.g, "y");
  n.g.AddNode(MakeNode("MatMul", "mm", {n.g.inputs[0], n.w}, {y}));
  n.g.outputs = {y};
  return n;
}

Net GemmNet(const Shape& x, const Tensor& w, const Tensor* c, bool trans_b, float alpha, float beta) {
  Net n;
  AddTestInput(n.g, "x", DType::kFloat32, x);
  n.w = AddTestValue(n.g, "w", w);
  std::vector<int> ins = {n.g.inputs[0], n.w};
  if (c) ins.push_back(AddTestValue(n.g, "c", *c));
  int y = AddTestValue(n.g, "y");
  n.g.AddNode(MakeNode("Gemm", "gemm", ins, {y},
                       {{"transB", IntAttr(trans_b)}, {"alpha", FloatAttr(alpha)}, {"beta", FloatAttr(beta)}}));
  n.g.outputs = {y};
  return n;
}

Tensor RunNet(const Graph& g, const Tensor& x, int threads, int runs = 2) {
  ExecutorOptions o;
  o.num_threads = threads;
  auto ex = Executor::Create(g, o);
  EXPECT_TRUE(ex.ok()) << ex.status().message();
  std::map<std::string, Tensor> outs;
  for (int r = 0; r < runs; ++r) {  // the second run uses the packed weight kept by the first
    Status st = (*ex)->Run({{"x", x}}, &outs);
    EXPECT_TRUE(st.ok()) << st.message();
  }
  return outs["y"];
}

// Reference: per row block of x, SgemmReference (plain loops).
Tensor RefGemm(const Tensor& x, const Tensor& w, bool trans_b, float alpha, float beta, const Tensor* c,
               const Shape& yshape) {
  const int64_t K = x.dim(x.rank() - 1), M = x.numel() / K, N = trans_b ? w.dim(0) : w.dim(1);
  Tensor y(DType::kFloat32, yshape);
  float* yp = y.data<float>();
  if (c) {
    const int64_t cr = c->rank() == 2 ? c->dim(0) : 1, cc = c->rank() >= 1 ? c->dim(c->rank() - 1) : 1;
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) yp[i * N + j] = beta * c->data<float>()[(cr == 1 ? 0 : i) * cc + (cc == 1 ? 0 : j)];
  }
  kernels::SgemmReference(false, trans_b, M, N, K, alpha, x.data<float>(), K, w.data<float>(), trans_b ? K : N,
                          c ? 1.f : 0.f, yp, N);
  return y;
}

void ExpectThreadsIdentical(const Graph& g, const Tensor& x, const Tensor& want, int64_t K, const std::string& what) {
  Tensor y1 = RunNet(g, x, 1);
  ASSERT_EQ(y1.shape(), want.shape()) << what;
  EXPECT_TRUE(TensorsNear(y1, want, Tol::Abs(1e-6 * (double)K * std::max(1.0, MaxAbs(want))), what)) << what;
  for (int t : {2, 3}) {
    Tensor yt = RunNet(g, x, t);
    EXPECT_EQ(0, std::memcmp(y1.raw(), yt.raw(), y1.nbytes())) << what << ": 1 vs " << t << " threads";
  }
}

TEST(MatMulPacked, ConstantWeightSweep) {
  struct C { Shape x; int64_t N; };
  const std::vector<C> cases = {{{1, 5}, 3},          {{7, 33}, 65},         {{32, 768}, 768},
                                {{1, 32, 96}, 1031},  {{2, 32, 77}, 300},    {{3, 5, 64, 129}, 127},
                                {{65, 255}, 64},      {{197, 64}, 192},      {{4, 17}, 1}};
  uint32_t seed = 100;
  for (const C& c : cases) {
    const int64_t K = c.x.back();
    Tensor x = Random(c.x, seed++), w = Random({K, c.N}, seed++);
    Net n = MatMulNet(c.x, w);
    ASSERT_TRUE(PrepareGraph(n.g).ok());
    Shape ys = c.x;
    ys.back() = c.N;
    ExpectThreadsIdentical(n.g, x, RefGemm(x, w, false, 1.f, 0.f, nullptr, ys), K, "MatMul " + ShapeToString(c.x) +
                                                                                    " x [" + std::to_string(K) + ", " +
                                                                                    std::to_string(c.N) + "]");
  }
}

TEST(GemmPacked, ConstantWeightWithBiasTransposedScaled) {
  uint32_t seed = 200;
  for (bool trans_b : {false, true})
    for (int cform = 0; cform < 4; ++cform)
      for (int64_t M : {1, 9, 32, 70}) {
        const int64_t K = 131, N = M == 1 ? 600 : 200;  // one row: kernels/gemv.h, 3 blocks
        const float alpha = cform == 3 ? 0.75f : 1.f, beta = cform >= 2 ? 0.5f : 1.f;
        Tensor x = Random({M, K}, seed++), w = trans_b ? Random({N, K}, seed++) : Random({K, N}, seed++);
        Tensor c = cform == 0 ? Tensor() : cform == 1 ? Random({N}, seed++) : Random({M, N}, seed++);
        const Tensor* cp = cform == 0 ? nullptr : &c;
        Net n = GemmNet({M, K}, w, cp, trans_b, alpha, beta);
        ASSERT_TRUE(PrepareGraph(n.g).ok());
        ExpectThreadsIdentical(n.g, x, RefGemm(x, w, trans_b, alpha, beta, cp, {M, N}), K,
                               "Gemm M" + std::to_string(M) + (trans_b ? " transB" : "") + " C form " +
                                   std::to_string(cform));
      }
}

// The packed weight lives with the executor: a weight written in place (same address) between
// executors is packed again, never served stale.
TEST(MatMulPacked, WeightChangedInPlaceIsRepackedByTheNextExecutor) {
  Tensor x = Random({32, 96}, 1), w = Random({96, 130}, 2);
  Net n = MatMulNet({32, 96}, w);
  ASSERT_TRUE(PrepareGraph(n.g).ok());
  const Tensor* init = InitializerOf(n.g, n.w);
  ASSERT_NE(init, nullptr);
  const float* addr = init->data<float>();
  Tensor y0 = RunNet(n.g, x, 2);
  float* wp = const_cast<Tensor*>(init)->data<float>();
  for (int64_t i = 0; i < init->numel(); ++i) wp[i] = -2.f * wp[i] + 0.25f;
  ASSERT_EQ(addr, InitializerOf(n.g, n.w)->data<float>());
  Tensor y1 = RunNet(n.g, x, 2);
  Tensor want = RefGemm(x, *init, false, 1.f, 0.f, nullptr, {32, 130});
  EXPECT_TRUE(TensorsNear(y1, want, Tol::Abs(1e-4 * std::max(1.0, MaxAbs(want))), "after the change"));
  EXPECT_FALSE(TensorsNear(y1, y0, Tol::Abs(1e-3), "unchanged?"));
}

// DOPT_REFERENCE_KERNELS=1: the packed path declines and the reference SGEMM runs: the result
// equals SgemmReference's bit for bit.
TEST(MatMulPacked, ReferenceKernelsFallBack) {
  const bool was = ReferenceKernelsForced();
  SetReferenceKernelsForced(true);
  Tensor x = Random({32, 200}, 5), w = Random({200, 300}, 6);
  Net n = MatMulNet({32, 200}, w);
  ASSERT_TRUE(PrepareGraph(n.g).ok());
  Tensor y = RunNet(n.g, x, 2);
  Tensor want = RefGemm(x, w, false, 1.f, 0.f, nullptr, {32, 300});
  SetReferenceKernelsForced(was);
  EXPECT_EQ(0, std::memcmp(y.raw(), want.raw(), y.nbytes()));
}

}  // namespace
}  // namespace dopt
