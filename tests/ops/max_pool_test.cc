// MaxPool against a naive loop (strides, pads, dilations, ceil_mode), indices, uint8.
#include "check_op.h"
#include "pool_ref.h"

namespace dopt {
namespace {

using namespace optest;

TEST(MaxPoolOp, SweepMatchesNaiveLoop) {
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
              const int64_t OH = osz(H), OW = osz(W);
              Tensor x = Random({2, 3, H, W}, seed++);
              auto ref = [&](const std::vector<Tensor>& in) {
                return std::vector<Tensor>{Tensor::FromFloats(
                    {2, 3, OH, OW}, RefPool2D(in[0].data<float>(), 6, H, W, OH, OW, K, K, S, S, D, D, P, P, P, P, 0))};
              };
              std::vector<Tensor> y;
              ASSERT_TRUE(CheckOp(OpCase("MaxPool")
                                      .Attr("kernel_shape", IntsAttr({K, K}))
                                      .Attr("strides", IntsAttr({S, S}))
                                      .Attr("pads", IntsAttr({P, P, P, P}))
                                      .Attr("dilations", IntsAttr({D, D}))
                                      .Attr("ceil_mode", IntAttr(ceil))
                                      .Input(x)
                                      .Reference(ref, Tol::Exact())
                                      .Label("H=" + std::to_string(H) + " K=" + std::to_string(K) + " S=" +
                                             std::to_string(S) + " P=" + std::to_string(P) + " D=" + std::to_string(D) +
                                             " ceil=" + std::to_string(ceil)),
                                  &y));
              ASSERT_EQ(y[0].shape(), (Shape{2, 3, OH, OW}));
            }
}

TEST(MaxPoolOp, IndicesAndUint8) {
  Tensor x = Tensor::FromFloats({1, 1, 2, 3}, {1, 9, 2, 8, 3, 10});
  std::vector<Tensor> r;
  ASSERT_TRUE(CheckOp(OpCase("MaxPool").Attr("kernel_shape", IntsAttr({2, 2})).Input(x).Outputs(2)
                          .Expect(Tensor::FromFloats({1, 1, 1, 2}, {9, 10})).Label("values"),
                      &r));
  EXPECT_EQ(r[1].ToInt64Vector(), (std::vector<int64_t>{1, 5}));
  ASSERT_TRUE(CheckOp(OpCase("MaxPool").Attr("kernel_shape", IntsAttr({2, 2})).Attr("storage_order", IntAttr(1)).Input(x).Outputs(2),
                      &r));
  EXPECT_EQ(r[1].ToInt64Vector(), (std::vector<int64_t>{2, 5}));  // column-major: h + w*H
  Tensor u(DType::kUInt8, {1, 1, 2, 2});
  for (int i = 0; i < 4; ++i) u.data<uint8_t>()[i] = (uint8_t)(200 + i);
  ASSERT_TRUE(CheckOp(OpCase("MaxPool").Attr("kernel_shape", IntsAttr({2, 2})).Input(u), &r));
  EXPECT_EQ(r[0].dtype(), DType::kUInt8);
  EXPECT_EQ(r[0].data<uint8_t>()[0], 203);
  EXPECT_FALSE(InferOp(OpCase("MaxPool"), {Info(DType::kFloat32, {1, 1, 4, 4})}).ok());
}

}  // namespace
}  // namespace dopt
