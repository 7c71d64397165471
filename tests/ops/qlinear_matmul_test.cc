// QLinearMatMul against a plain loop (integer product, requantization in double; tests/ops/
// integer_ops_ref.h): 2-D and batched, int8/uint8 in and out, per-tensor scales and opset 21's
// per-row (a, y) / per-column (b) ones; exact with power-of-two scales; error cases.
#include "integer_ops_ref.h"

namespace dopt {
namespace {

using namespace optest;

Tensor Scale(std::vector<float> v) { return v.size() == 1 ? Tensor::FromFloats({}, v) : Tensor::FromFloats({(int64_t)v.size()}, v); }

TEST(QLinearMatMul, SweepMatchesPlainLoop) {
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{2, 4}, {4, 3}}, {{5, 31}, {31, 7}}, {{2, 3, 9}, {2, 9, 4}}, {{3, 6, 10}, {10, 5}}, {{40, 64}, {64, 33}}};
  uint32_t seed = 1300;
  for (const auto& [sa, sb] : shapes)
    for (DType at : {DType::kUInt8, DType::kInt8})
      for (DType yt : {DType::kUInt8, DType::kInt8})
        for (bool per_axis : {false, true})
          for (bool pow2 : {false, true}) {
            seed += 2;
            const DType bt = seed % 4 == 0 ? DType::kUInt8 : DType::kInt8;
            const int64_t M = sa[sa.size() - 2], N = sb.back();
            Tensor a = RandomInt(at, sa, seed), b = RandomInt(bt, sb, seed + 1);
            const int64_t na = per_axis ? M : 1, nbv = per_axis ? N : 1;
            std::vector<float> as, bs, ys;
            std::vector<int32_t> az, bz, yz;
            for (int64_t i = 0; i < na; ++i) {
              as.push_back(pow2 ? std::ldexp(1.f, -4 - (int)(i % 2)) : 0.013f * (1 + 0.1f * (float)i));
              ys.push_back(pow2 ? std::ldexp(1.f, (int)(i % 3)) : 0.37f + 0.05f * (float)i);
              az.push_back(at == DType::kUInt8 ? 128 - (int)i : (int)i % 3 - 1);
              yz.push_back(yt == DType::kUInt8 ? 120 + (int)i : (int)i % 5 - 2);
            }
            for (int64_t j = 0; j < nbv; ++j) {
              bs.push_back(pow2 ? std::ldexp(1.f, -6 - (int)(j % 2)) : 0.0041f * (1 + 0.07f * (float)j));
              bz.push_back(bt == DType::kUInt8 ? 127 + (int)j % 3 : 1 - (int)j % 3);
            }
            auto zp = [](DType dt, const std::vector<int32_t>& v) {
              return ZeroPoint(dt, std::vector<int>(v.begin(), v.end()));
            };
            OpCase oc("QLinearMatMul");
            oc.Inputs({a, Scale(as), zp(at, az), b, Scale(bs), zp(bt, bz), Scale(ys), zp(yt, yz)});
            oc.Label(ShapeToString(sa) + " x " + ShapeToString(sb) + " " + DTypeName(at) + " x " + DTypeName(bt) +
                     " -> " + DTypeName(yt) + (per_axis ? " per-axis" : " per-tensor") + (pow2 ? " pow2" : ""));
            oc.Reference(
                [&](const std::vector<Tensor>&) {
                  Tensor acc = RefIntMatMul(a, az, b, bz);
                  Tensor y(yt, acc.shape());
                  for (int64_t e = 0; e < acc.numel(); ++e) {
                    const int64_t i = (e / N) % M, j = e % N, ia = per_axis ? i : 0, jb = per_axis ? j : 0;
                    const int32_t v = RefRequantize(acc.data<int32_t>()[e], (double)as[ia] * bs[jb] / ys[ia], yz[ia], yt);
                    if (yt == DType::kInt8) y.data<int8_t>()[e] = (int8_t)v;
                    else y.data<uint8_t>()[e] = (uint8_t)v;
                  }
                  return std::vector<Tensor>{y};
                },
                // In float as ONNX Runtime: one step off only within float rounding of a half.
                pow2 ? Tol::Exact() : Tol::Abs(1));
            EXPECT_TRUE(CheckOp(oc));
          }
}

TEST(QLinearMatMul, OnnxExample) {
  // ONNX's QLinearMatMul example (uint8).
  Tensor a = Make<uint8_t>(DType::kUInt8, {2, 4}, {208, 236, 0, 238, 3, 214, 255, 29});
  Tensor b = Make<uint8_t>(DType::kUInt8, {4, 3}, {152, 51, 244, 60, 26, 255, 0, 127, 246, 127, 254, 247});
  EXPECT_TRUE(CheckOp(OpCase("QLinearMatMul")
                          .Inputs({a, Scale({0.0066f}), ZeroPoint(DType::kUInt8, {113}), b, Scale({0.00705f}),
                                   ZeroPoint(DType::kUInt8, {114}), Scale({0.0107f}), ZeroPoint(DType::kUInt8, {118})})
                          .Expect(Make<uint8_t>(DType::kUInt8, {2, 3}, {168, 115, 255, 1, 66, 151}))));
}

TEST(QLinearMatMul, Errors) {
  Tensor a = RandomInt(DType::kUInt8, {3, 4}, 1), b = RandomInt(DType::kInt8, {4, 5}, 2);
  auto base = [&](Tensor a_scale, Tensor b_scale, Tensor y_zp) {
    return std::vector<Tensor>{a, std::move(a_scale), ZeroPoint(DType::kUInt8, {1}), b, std::move(b_scale),
                               ZeroPoint(DType::kInt8, {0}), Scale({1.f}), std::move(y_zp)};
  };
  auto r = RunOp(OpCase("QLinearMatMul").Inputs(base(Scale({1.f, 2.f}), Scale({1.f}), ZeroPoint(DType::kUInt8, {0}))));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("a_scale"), std::string::npos) << r.status().message();
  r = RunOp(OpCase("QLinearMatMul").Inputs(base(Scale({1.f}), Scale({1.f, 2.f, 3.f}), ZeroPoint(DType::kUInt8, {0}))));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("b_scale"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("node 'n'"), std::string::npos) << r.status().message();
  // a's zero point of b's type.
  auto info = InferOp(OpCase("QLinearMatMul"),
                      {Info(DType::kUInt8, {3, 4}), Info(DType::kFloat32, {}), Info(DType::kInt8, {}),
                       Info(DType::kInt8, {4, 5}), Info(DType::kFloat32, {}), Info(DType::kInt8, {}),
                       Info(DType::kFloat32, {}), Info(DType::kUInt8, {})});
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.status().message().find("a_zero_point"), std::string::npos) << info.status().message();
  info = InferOp(OpCase("QLinearMatMul"),
                 {Info(DType::kUInt8, {-1, 3, 4}), Info(DType::kFloat32, {}), Info(DType::kUInt8, {}),
                  Info(DType::kInt8, {4, 5}), Info(DType::kFloat32, {}), Info(DType::kInt8, {}),
                  Info(DType::kFloat32, {}), Info(DType::kInt8, {})});
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ((*info)[0].dtype, DType::kInt8);
  EXPECT_EQ((*info)[0].shape, (Shape{-1, 3, 5}));
}

}  // namespace
}  // namespace dopt
