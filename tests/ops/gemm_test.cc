// Gemm: alpha/beta/transA/transB and C broadcast against a naive loop; C optional; errors.
#include "op_test_util.h"

namespace dopt {
namespace {

using namespace optest;

TEST(GemmOp, SweepMatchesNaiveLoop) {
  ThreadPool pool(2);
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
              Node n = MakeNode("Gemm", {{"alpha", Float(alpha)}, {"beta", Float(beta)}, {"transA", Int(ta)}, {"transB", Int(tb)}},
                                3, 1);
              std::vector<float> ref;
              for (int64_t i = 0; i < M; ++i)
                for (int64_t j = 0; j < N; ++j) {
                  double acc = 0;
                  for (int64_t k = 0; k < K; ++k)
                    acc += (double)a.data<float>()[ta ? k * M + i : i * K + k] * b.data<float>()[tb ? j * K + k : k * N + j];
                  int64_t ci = cform == 0 || cform == 4 ? 0 : cform == 1 ? j : cform == 2 ? i : i * N + j;
                  ref.push_back((float)(alpha * acc + beta * c.data<float>()[ci]));
                }
              auto r = RunNode(n, {&a, &b, &c}, seed % 2 ? &pool : nullptr);
              ASSERT_TRUE(r.ok()) << r.status().message();
              ASSERT_EQ((*r)[0].shape(), (Shape{M, N}));
              ExpectNear((*r)[0], ref, 2e-6f * (float)K + 1e-5f, "gemm");
            }
}

TEST(GemmOp, OptionalCAndErrors) {
  Tensor a = Tensor::FromFloats({2, 2}, {1, 2, 3, 4}), b = Tensor::FromFloats({2, 2}, {5, 6, 7, 8});
  Node n = MakeNode("Gemm", {}, 2, 1);
  auto r = RunNode(n, {&a, &b});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ExpectNear((*r)[0], {19, 22, 43, 50}, 0, "no C");
  auto bad = InferNode(n, {Info(DType::kFloat32, {2, 3}), Info(DType::kFloat32, {4, 5})});
  EXPECT_FALSE(bad.ok());
  Node n3 = MakeNode("Gemm", {}, 3, 1);
  bad = InferNode(n3, {Info(DType::kFloat32, {2, 3}), Info(DType::kFloat32, {3, 5}), Info(DType::kFloat32, {3})});
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace dopt
