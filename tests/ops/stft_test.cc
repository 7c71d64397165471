#include <cmath>
#include <complex>
#include <numbers>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;
using cd = std::complex<double>;

// Frame by frame with the O(n^2) DFT in double.
Tensor NaiveStft(const Tensor& x, int64_t step, const Tensor* window, int64_t n, bool onesided) {
  const int64_t batch = x.dim(0), len = x.dim(1), c = x.dim(2);
  const int64_t frames = (len - n) / step + 1, bins = onesided ? n / 2 + 1 : n;
  Tensor y(DType::kFloat32, {batch, frames, bins, 2});
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t f = 0; f < frames; ++f)
      for (int64_t k = 0; k < bins; ++k) {
        cd acc = 0;
        for (int64_t j = 0; j < n; ++j) {
          const float* p = x.data<float>() + (b * len + f * step + j) * c;
          const double w = window ? window->data<float>()[j] : 1.0;
          acc += w * cd(p[0], c == 2 ? p[1] : 0) * std::polar(1.0, -2 * std::numbers::pi * (double)((j * k) % n) / (double)n);
        }
        float* q = y.data<float>() + ((b * frames + f) * bins + k) * 2;
        q[0] = (float)acc.real();
        q[1] = (float)acc.imag();
      }
  return y;
}

Tensor I64(int64_t v) { return Tensor::FromInt64s({}, {v}); }

TEST(StftOp, SweepMatchesNaive) {
  for (int64_t c : {1, 2})
    for (int64_t len : {16, 37, 128})
      for (int64_t n : {1, 8, 15, 16})
        for (int64_t step : {1, 4, 7})
          for (int how : {0, 1, 2}) {  // window only, frame_length only, both
            if (n > len) continue;
            const bool onesided = c == 1 && (step % 2 == 1);
            const Tensor x = Random({2, len, c}, (uint32_t)(len + c));
            const Tensor w = Random({n}, (uint32_t)n, 0.f, 1.f);
            OpCase op("STFT");
            op.Attr("onesided", IntAttr(onesided)).Input(x).Input(I64(step));
            if (how == 1) op.Omitted().Input(I64(n));
            else op.Input(w);
            if (how == 2) op.Input(I64(n));
            const Tensor* wp = how == 1 ? nullptr : &w;
            const Tensor want = NaiveStft(x, step, wp, n, onesided);
            EXPECT_TRUE(CheckOp(op.Expect(want, Tol::Abs(1e-5 * (double)n))
                                    .Label("c=" + std::to_string(c) + " len=" + std::to_string(len) + " n=" + std::to_string(n) +
                                           " step=" + std::to_string(step) + " how=" + std::to_string(how))));
          }
}

// Neither window nor frame_length: one frame over the whole signal; int32 scalars.
TEST(StftOp, DefaultsToWholeSignal) {
  const Tensor x = Random({1, 20, 1}, 5);
  EXPECT_TRUE(CheckOp(OpCase("STFT").Input(x).Input(Make<int32_t>(DType::kInt32, {}, {3}))
                          .Expect(NaiveStft(x, 3, nullptr, 20, true), Tol::Abs(1e-4))));
}

TEST(StftOp, ShapeRuleAndErrors) {
  const Tensor step = I64(160), fl = I64(400);
  auto inf = InferOp(OpCase("STFT"), {Info(DType::kFloat32, {1, 16000, 1}), Info(DType::kInt64, {}, &step),
                                      Info(DType::kFloat32, {400})});
  ASSERT_TRUE(inf.ok()) << inf.status().message();
  EXPECT_EQ((*inf)[0].shape, (Shape{1, 98, 201, 2}));
  inf = InferOp(OpCase("STFT"), {Info(DType::kFloat32, {-1, -1, 1}), Info(DType::kInt64, {}), Absent(), Info(DType::kInt64, {}, &fl)});
  ASSERT_TRUE(inf.ok()) << inf.status().message();
  EXPECT_EQ((*inf)[0].shape, (Shape{-1, -1, 201, 2}));
  const Tensor x = Random({1, 32, 1}, 1);
  EXPECT_FALSE(RunOp(OpCase("STFT").Input(x).Input(I64(4)).Omitted().Input(I64(33))).ok());  // frame longer than the signal
  EXPECT_FALSE(RunOp(OpCase("STFT").Input(x).Input(I64(0)).Omitted().Input(I64(8))).ok());   // step 0
  EXPECT_FALSE(RunOp(OpCase("STFT").Input(x).Input(I64(4)).Input(Random({8}, 1)).Input(I64(16))).ok());  // window != frame
  EXPECT_FALSE(RunOp(OpCase("STFT").Input(Random({1, 32, 2}, 1)).Input(I64(4)).Omitted().Input(I64(8))).ok());  // onesided complex
  EXPECT_FALSE(RunOp(OpCase("STFT").Input(Random({32, 1}, 1)).Input(I64(4)).Omitted().Input(I64(8))).ok());     // rank 2
  for (int64_t v : {-1, -2, 0}) {  // no value is taken for "unknown" or "absent"
    EXPECT_FALSE(RunOp(OpCase("STFT").Input(x).Input(I64(v)).Omitted().Input(I64(8))).ok()) << v;
    EXPECT_FALSE(RunOp(OpCase("STFT").Input(x).Input(I64(4)).Omitted().Input(I64(v))).ok()) << v;
    EXPECT_FALSE(RunOp(OpCase("STFT").Input(x).Input(I64(4)).Input(Random({8}, 1)).Input(I64(v))).ok()) << v;
  }
  auto bad = RunOp(OpCase("STFT").Input(x).Input(I64(4)).Omitted().Input(I64(-8)));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("STFT"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace dopt
