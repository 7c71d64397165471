// MaxPool against a naive loop (strides, pads, dilations, ceil_mode), indices, uint8.
#include "op_test_util.h"
#include "pool_ref.h"

namespace dopt {
namespace {

using namespace optest;

TEST(MaxPoolOp, SweepMatchesNaiveLoop) {
  ThreadPool pool(2);
  uint32_t seed = 21;
  for (int64_t H : {5, 8, 13})
    for (int64_t K : {2, 3})
      for (int64_t S : {1, 2})
        for (int64_t P : {0, 1})
          for (int64_t D : {1, 2})
            for (int ceil = 0; ceil < 2; ++ceil) {
              if (P >= K) continue;
              const int64_t W = H + 2;
              auto osz = [&](int64_t in) {
                int64_t span = in + 2 * P - (K - 1) * D - 1;
                int64_t o = ceil ? (span + S - 1) / S + 1 : span / S + 1;
                if (ceil && (o - 1) * S >= in + P) --o;
                return o;
              };
              Tensor x = Random({2, 3, H, W}, seed++);
              Node n = MakeNode("MaxPool",
                                {{"kernel_shape", Ints({K, K})}, {"strides", Ints({S, S})}, {"pads", Ints({P, P, P, P})},
                                 {"dilations", Ints({D, D})}, {"ceil_mode", Int(ceil)}},
                                1, 1);
              auto r = RunNode(n, {&x}, seed % 2 ? &pool : nullptr);
              ASSERT_TRUE(r.ok()) << r.status().message();
              const int64_t OH = osz(H), OW = osz(W);
              ASSERT_EQ((*r)[0].shape(), (Shape{2, 3, OH, OW}));
              ExpectNear((*r)[0], RefPool2D(x.data<float>(), 6, H, W, OH, OW, K, K, S, S, D, D, P, P, P, P, 0), 0, "max");
            }
}

TEST(MaxPoolOp, IndicesAndUint8) {
  Tensor x = Tensor::FromFloats({1, 1, 2, 3}, {1, 9, 2, 8, 3, 10});
  Node n = MakeNode("MaxPool", {{"kernel_shape", Ints({2, 2})}}, 1, 2);
  auto r = RunNode(n, {&x});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ExpectNear((*r)[0], {9, 10}, 0, "values");
  EXPECT_EQ((*r)[1].ToInt64Vector(), (std::vector<int64_t>{1, 5}));
  Node cm = MakeNode("MaxPool", {{"kernel_shape", Ints({2, 2})}, {"storage_order", Int(1)}}, 1, 2);
  r = RunNode(cm, {&x});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[1].ToInt64Vector(), (std::vector<int64_t>{2, 5}));  // column-major: h + w*H
  Tensor u(DType::kUInt8, {1, 1, 2, 2});
  for (int i = 0; i < 4; ++i) u.data<uint8_t>()[i] = (uint8_t)(200 + i);
  Node un = MakeNode("MaxPool", {{"kernel_shape", Ints({2, 2})}}, 1, 1);
  r = RunNode(un, {&u});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].dtype(), DType::kUInt8);
  EXPECT_EQ((*r)[0].data<uint8_t>()[0], 203);
  Node nokernel = MakeNode("MaxPool", {}, 1, 1);
  EXPECT_FALSE(InferNode(nokernel, {Info(DType::kFloat32, {1, 1, 4, 4})}).ok());
}

}  // namespace
}  // namespace dopt
