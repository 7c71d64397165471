// MaxPool, AveragePool and GlobalAveragePool on channels-last activations (the node attribute the channels_last
// pass sets: X and Y are [N, H, W, C]) against the naive channels-first loop, over channel counts
// around the kernels' 16-channel vectors (whole blocks, a tail, a tail only), kernel, stride,
// pads, dilations (MaxPool), count_include_pad (AveragePool) and ceil_mode.
#include "check_op.h"
#include "pool_ref.h"

namespace dopt {
namespace {

using namespace optest;

// [N, C, H, W] <-> [N, H, W, C] of float data.
std::vector<float> ToNhwc(const float* x, int64_t N, int64_t C, int64_t H, int64_t W) {
  std::vector<float> y((size_t)(N * C * H * W));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < H * W; ++i) y[(size_t)((n * H * W + i) * C + c)] = x[(n * C + c) * H * W + i];
  return y;
}

void SweepChannelsLast(const char* op, uint32_t seed) {
  const bool max = std::string(op) == "MaxPool";
  const int64_t N = 2, H = 7, W = 9;
  for (int64_t C : {1, 5, 16, 21, 40})
    for (int64_t K : {2, 3})
      for (int64_t S : {1, 2})
        for (int64_t P : {0, 1})
          for (int64_t D : {1, 2})
            for (int flag = 0; flag < 2; ++flag)  // MaxPool: ceil_mode; AveragePool: count_include_pad
              for (int ceil = 0; ceil < 2; ++ceil) {
                if (P >= K || (!max && D != 1) || (max && flag)) continue;
                auto osz = [&](int64_t in) {
                  const int64_t span = in + 2 * P - (K - 1) * D - 1;
                  int64_t o = ceil ? (span + S - 1) / S + 1 : span / S + 1;
                  if (ceil && (o - 1) * S >= in + P) --o;
                  return o;
                };
                const int64_t OH = osz(H), OW = osz(W);
                Tensor nchw = Random({N, C, H, W}, seed++);
                Tensor x = Tensor::FromFloats({N, H, W, C}, ToNhwc(nchw.data<float>(), N, C, H, W));
                const std::vector<float> want_nchw = RefPool2D(nchw.data<float>(), N * C, H, W, OH, OW, K, K, S, S, D, D, P,
                                                               P, P, P, max ? 0 : flag ? 2 : 1);
                Tensor want = Tensor::FromFloats({N, OH, OW, C}, ToNhwc(want_nchw.data(), N, C, OH, OW));
                OpCase c = OpCase(op)
                               .Attr("dopt.channels_last", IntAttr(1))
                               .Attr("kernel_shape", IntsAttr({K, K}))
                               .Attr("strides", IntsAttr({S, S}))
                               .Attr("pads", IntsAttr({P, P, P, P}))
                               .Attr("ceil_mode", IntAttr(ceil))
                               .Input(x)
                               .Expect(want, max ? Tol::Exact() : Tol::Near(1e-6))
                               .Label(std::string(op) + " C=" + std::to_string(C) + " K=" + std::to_string(K) +
                                      " S=" + std::to_string(S) + " P=" + std::to_string(P) + " D=" +
                                      std::to_string(D) + " flag=" + std::to_string(flag) + " ceil=" +
                                      std::to_string(ceil));
                if (max) c.Attr("dilations", IntsAttr({D, D}));
                else c.Attr("count_include_pad", IntAttr(flag));
                ASSERT_TRUE(CheckOp(c));
              }
}

TEST(PoolChannelsLast, MaxPoolSweepMatchesNaiveLoop) { SweepChannelsLast("MaxPool", 41); }

// GlobalAveragePool channels-last: the channels-first kernel's bits (the same double sums in
// pixel order) for channel counts that cover the 64-, 32- and 16-channel register kernels, their
// mixes and the plain loop's remainders, and more than one 64-channel task; 1, 2 and 3 threads.
TEST(PoolChannelsLast, GlobalAveragePoolHasTheChannelsFirstBits) {
  uint32_t seed = 60;
  for (int64_t C : {1, 7, 16, 24, 32, 48, 63, 64, 80, 112, 136, 200})
    for (auto [H, W] : {std::pair<int64_t, int64_t>{5, 7}, {13, 11}}) {
      const int64_t N = 2;
      Tensor nchw = Random({N, C, H, W}, seed++);
      auto first = RunOp(OpCase("GlobalAveragePool").Input(nchw));
      ASSERT_TRUE(first.ok()) << first.status().message();
      const Tensor& want = (*first)[0];
      Tensor x = Tensor::FromFloats({N, H, W, C}, ToNhwc(nchw.data<float>(), N, C, H, W));
      ASSERT_TRUE(CheckOp(OpCase("GlobalAveragePool")
                              .Attr("dopt.channels_last", IntAttr(1))
                              .Input(x)
                              .Threads({2, 3})
                              .Expect(Tensor::FromFloats({N, 1, 1, C}, std::vector<float>(want.data<float>(), want.data<float>() + want.numel())), Tol::Exact())
                              .Label("C=" + std::to_string(C) + " " + std::to_string(H) + "x" + std::to_string(W))));
    }
}
TEST(PoolChannelsLast, AveragePoolSweepMatchesNaiveLoop) { SweepChannelsLast("AveragePool", 43); }

}  // namespace
}  // namespace dopt
