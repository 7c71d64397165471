// AveragePool against a naive loop (count_include_pad, ceil_mode, pads, auto_pad).
#include "op_test_util.h"
#include "pool_ref.h"

namespace dopt {
namespace {

using namespace optest;

TEST(AveragePoolOp, SweepMatchesNaiveLoop) {
  ThreadPool pool(2);
  uint32_t seed = 31;
  for (int64_t H : {4, 7, 11})
    for (int64_t K : {2, 3})
      for (int64_t S : {1, 2})
        for (int64_t P : {0, 1})
          for (int inc = 0; inc < 2; ++inc)
            for (int ceil = 0; ceil < 2; ++ceil) {
              if (P >= K) continue;
              const int64_t W = H + 3;
              auto osz = [&](int64_t in) {
                int64_t span = in + 2 * P - K;
                int64_t o = ceil ? (span + S - 1) / S + 1 : span / S + 1;
                if (ceil && (o - 1) * S >= in + P) --o;
                return o;
              };
              Tensor x = Random({1, 4, H, W}, seed++);
              Node n = MakeNode("AveragePool",
                                {{"kernel_shape", Ints({K, K})}, {"strides", Ints({S, S})}, {"pads", Ints({P, P, P, P})},
                                 {"count_include_pad", Int(inc)}, {"ceil_mode", Int(ceil)}},
                                1, 1);
              auto r = RunNode(n, {&x}, seed % 2 ? &pool : nullptr);
              ASSERT_TRUE(r.ok()) << r.status().message();
              const int64_t OH = osz(H), OW = osz(W);
              ASSERT_EQ((*r)[0].shape(), (Shape{1, 4, OH, OW}));
              ExpectNear((*r)[0], RefPool2D(x.data<float>(), 4, H, W, OH, OW, K, K, S, S, 1, 1, P, P, P, P, inc ? 2 : 1),
                         1e-6f, "avg");
            }
}

TEST(AveragePoolOp, SameUpperAndBadInput) {
  Tensor x = Tensor::FromFloats({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  Node n = MakeNode("AveragePool", {{"kernel_shape", Ints({2, 2})}, {"auto_pad", Str("SAME_UPPER")}, {"strides", Ints({2, 2})}},
                    1, 1);
  auto r = RunNode(n, {&x});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ExpectNear((*r)[0], {3, 4.5f, 7.5f, 9}, 1e-6f, "same_upper");
  EXPECT_FALSE(InferNode(n, {Info(DType::kInt32, {1, 1, 3, 3})}).ok());
  EXPECT_FALSE(InferNode(n, {Info(DType::kFloat32, {3, 3})}).ok());
}

}  // namespace
}  // namespace dopt
