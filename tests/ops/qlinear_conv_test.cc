// QLinearConv against a plain loop (integer conv, int32 bias, requantization in double, from
// tests/ops/integer_ops_ref.h) over shapes, groups, strides, pads, per-tensor and per-channel
// weight scales / zero points, int8 and uint8 in and out; exact where the scales are powers of
// two; saturation; error cases.
#include <tuple>

#include "integer_ops_ref.h"

namespace dopt {
namespace {

using namespace optest;

Tensor Scale(std::vector<float> v) { return v.size() == 1 ? Tensor::FromFloats({}, v) : Tensor::FromFloats({(int64_t)v.size()}, v); }

struct QCase {
  IntConvCase conv;
  DType xt, wt, yt;
  bool per_channel, bias;
};

// Runs one case; `pow2` picks power-of-two scales (exact in float and double: no tolerance).
void RunQCase(const QCase& q, uint32_t seed, bool pow2) {
  const IntConvCase& c = q.conv;
  Shape xs = {c.N, c.C}, ws = {c.M, c.C / c.G};
  xs.insert(xs.end(), c.in.begin(), c.in.end());
  ws.insert(ws.end(), c.k.begin(), c.k.end());
  Tensor x = RandomInt(q.xt, xs, seed), w = RandomInt(q.wt, ws, seed + 1);
  const int32_t xz = q.xt == DType::kUInt8 ? 120 : -4, yz = q.yt == DType::kUInt8 ? 128 : 3;
  std::vector<int32_t> wz;
  std::vector<float> wsc;
  const int64_t nw = q.per_channel ? c.M : 1;
  for (int64_t m = 0; m < nw; ++m) {
    wz.push_back(q.wt == DType::kUInt8 ? 100 + (int32_t)m : (int32_t)(m % 5) - 2);
    wsc.push_back(pow2 ? std::ldexp(1.f, -7 - (int)(m % 3)) : 0.0031f * (1.f + 0.37f * (float)m));
  }
  const float xsc = pow2 ? 0.0625f : 0.0173f, ysc = pow2 ? 2.f : 0.71f;
  const int64_t K = c.C / c.G * NumElements(c.k);
  Tensor b(DType::kInt32, {c.M});
  for (int64_t m = 0; m < c.M; ++m) b.data<int32_t>()[m] = (int32_t)((m * 7919 % 2001) - 1000) * (int32_t)K / 8;
  OpCase oc = IntConvNode("QLinearConv", c);
  std::vector<int> wzv(wz.begin(), wz.end());
  oc.Inputs({x, Scale({xsc}), ZeroPoint(q.xt, {xz}), w, Scale(wsc), ZeroPoint(q.wt, wzv), Scale({ysc}),
             ZeroPoint(q.yt, {yz})});
  if (q.bias) oc.Input(b);
  oc.Label(std::string(DTypeName(q.xt)) + " x " + DTypeName(q.wt) + " -> " + DTypeName(q.yt) +
           (q.per_channel ? " per-channel" : " per-tensor") + (q.bias ? " bias" : "") + (pow2 ? " pow2" : "") +
           " M=" + std::to_string(c.M) + " G=" + std::to_string(c.G));
  oc.Reference(
      [&](const std::vector<Tensor>&) {
        Tensor acc = RefIntConv(c, x, xz, w, wz);
        Tensor y(q.yt, acc.shape());
        const int64_t P = acc.numel() / (c.N * c.M);
        for (int64_t i = 0; i < acc.numel(); ++i) {
          const int64_t m = (i / P) % c.M;
          const double s = (double)xsc * wsc[q.per_channel ? m : 0] / ysc;
          const int32_t v = RefRequantize((int64_t)acc.data<int32_t>()[i] + (q.bias ? b.data<int32_t>()[m] : 0), s, yz, q.yt);
          if (q.yt == DType::kInt8) y.data<int8_t>()[i] = (int8_t)v;
          else y.data<uint8_t>()[i] = (uint8_t)v;
        }
        return std::vector<Tensor>{y};
      },
      // The op multiplies in float as ONNX Runtime does: one step off where x*s lands within
      // float rounding of a half; exact with power-of-two scales.
      pow2 ? Tol::Exact() : Tol::Abs(1));
  EXPECT_TRUE(CheckOp(oc));
}

TEST(QLinearConv, SweepMatchesPlainLoop) {
  const std::vector<IntConvCase> convs = {
      {1, 3, 4, 1, {6, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},
      {2, 4, 6, 2, {9, 8}, {3, 2}, {2, 1}, {1, 1}, {1, 0, 0, 1}},
      {1, 6, 6, 6, {11, 7}, {3, 3}, {2, 2}, {1, 1}, {}, "SAME_UPPER"},  // depthwise
      {1, 4, 5, 1, {10, 9}, {3, 3}, {1, 1}, {2, 2}, {2, 2, 2, 2}},      // dilations
      {1, 3, 4, 1, {13}, {4}, {3}, {1}, {2, 1}},                        // 1-D
      {1, 16, 32, 1, {17, 15}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},   // several output blocks
  };
  const std::vector<std::tuple<DType, DType, DType>> types = {
      {DType::kUInt8, DType::kUInt8, DType::kUInt8},
      {DType::kUInt8, DType::kInt8, DType::kUInt8},
      {DType::kInt8, DType::kInt8, DType::kInt8},
      {DType::kInt8, DType::kUInt8, DType::kUInt8},
  };
  uint32_t seed = 500;
  for (const IntConvCase& c : convs)
    for (auto [xt, wt, yt] : types)
      for (bool per_channel : {false, true})
        for (bool pow2 : {false, true}) {
          seed += 3;
          RunQCase({c, xt, wt, yt, per_channel, seed % 2 == 0}, seed, pow2);
        }
}

TEST(QLinearConv, RequantizesHalfToEvenAndSaturates) {
  // 1x1 conv of one channel, weight 1 (zero point 0): y = round(x * 0.5 / 1) + 10 saturated.
  Tensor x = Make<int8_t>(DType::kInt8, {1, 1, 1, 8}, {1, 3, 5, -1, -3, 127, -128, 0});
  Tensor w = Make<int8_t>(DType::kInt8, {1, 1, 1, 1}, {1});
  Tensor b = Make<int32_t>(DType::kInt32, {1}, {0});
  // x/2 = .5, 1.5, 2.5, -.5, -1.5, 63.5, -64, 0 -> 0, 2, 2, -0, -2, 64, -64, 0; + 10 into uint8 and int8.
  EXPECT_TRUE(CheckOp(OpCase("QLinearConv").Inputs({x, Scale({0.5f}), ZeroPoint(DType::kInt8, {0}), w, Scale({1.f}),
                                                    ZeroPoint(DType::kInt8, {0}), Scale({1.f}),
                                                    ZeroPoint(DType::kUInt8, {10}), b})
                          .Expect(Make<uint8_t>(DType::kUInt8, {1, 1, 1, 8}, {10, 12, 12, 10, 8, 74, 0, 10}))));
  // Large outputs saturate at the int8 bounds.
  EXPECT_TRUE(CheckOp(OpCase("QLinearConv").Inputs({x, Scale({4.f}), ZeroPoint(DType::kInt8, {0}), w, Scale({1.f}),
                                                    ZeroPoint(DType::kInt8, {0}), Scale({1.f}),
                                                    ZeroPoint(DType::kInt8, {10})})
                          .Expect(Make<int8_t>(DType::kInt8, {1, 1, 1, 8}, {14, 22, 30, 6, -2, 127, -128, 10}))));
}

TEST(QLinearConv, Errors) {
  Tensor x = RandomInt(DType::kUInt8, {1, 2, 4, 4}, 1), w = RandomInt(DType::kInt8, {3, 2, 3, 3}, 2);
  auto inputs = [&](Tensor w_scale, Tensor w_zp, Tensor y_zp) {
    return std::vector<Tensor>{x, Scale({0.1f}), ZeroPoint(DType::kUInt8, {128}), w, std::move(w_scale),
                               std::move(w_zp), Scale({0.2f}), std::move(y_zp)};
  };
  // w_scale with 2 values for 3 output channels.
  auto r = RunOp(OpCase("QLinearConv").Inputs(inputs(Scale({1.f, 2.f}), ZeroPoint(DType::kInt8, {0}),
                                                     ZeroPoint(DType::kUInt8, {0}))));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("w_scale"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("node 'n'"), std::string::npos) << r.status().message();
  // Bias of the wrong length or type.
  r = RunOp(OpCase("QLinearConv").Inputs(inputs(Scale({1.f}), ZeroPoint(DType::kInt8, {0}), ZeroPoint(DType::kUInt8, {0})))
                .Input(Make<int32_t>(DType::kInt32, {2}, {1, 2})));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bias"), std::string::npos) << r.status().message();
  // w zero point of x's type (uint8) while w is int8.
  auto info = InferOp(OpCase("QLinearConv"),
                      {Info(DType::kUInt8, {1, 2, 4, 4}), Info(DType::kFloat32, {}), Info(DType::kUInt8, {}),
                       Info(DType::kInt8, {3, 2, 3, 3}), Info(DType::kFloat32, {}), Info(DType::kUInt8, {}),
                       Info(DType::kFloat32, {}), Info(DType::kUInt8, {})});
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.status().message().find("w_zero_point"), std::string::npos) << info.status().message();
  // Output type from y_zero_point; shapes only.
  auto ok = InferOp(OpCase("QLinearConv").Attr("strides", IntsAttr({2, 2})),
                    {Info(DType::kUInt8, {1, 2, 8, 8}), Info(DType::kFloat32, {}), Info(DType::kUInt8, {}),
                     Info(DType::kInt8, {3, 2, 3, 3}), Info(DType::kFloat32, {3}), Info(DType::kInt8, {3}),
                     Info(DType::kFloat32, {}), Info(DType::kInt8, {}), Info(DType::kInt32, {3})});
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ((*ok)[0].dtype, DType::kInt8);
  EXPECT_EQ((*ok)[0].shape, (Shape{1, 3, 3, 3}));
}

}  // namespace
}  // namespace dopt
