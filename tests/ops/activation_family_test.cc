// Float activations with attributes: Elu, Selu, Celu, Softplus, ThresholdedRelu, Shrink, Gelu,
// Mish. Spot values from ONNX's reference implementation (onnx.reference), large inputs against
// the formulas in double.
#include <cmath>
#include <limits>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

Tensor Floats(const std::vector<float>& v) { return Tensor::FromFloats({(int64_t)v.size()}, v); }

const std::vector<float> kXs = {-3.f, -1.f, -0.5f, 0.f, 0.5f, 1.f, 3.f};

TEST(ActivationFamily, MatchOnnxReferenceValues) {
  // onnx.reference.ReferenceEvaluator on kXs.
  EXPECT_TRUE(CheckOp(OpCase("Gelu", 20).Input(Floats(kXs)).Expect(
      Floats({-0.0040496885776519775f, -0.15865525603294373f, -0.1542687714099884f, 0.f, 0.3457312285900116f,
              0.8413447141647339f, 2.995950222015381f}), Tol::Near(1e-6))));
  EXPECT_TRUE(CheckOp(OpCase("Gelu", 20).Attr("approximate", StringAttr("tanh")).Input(Floats(kXs)).Expect(
      Floats({-0.003637343645095825f, -0.15880799293518066f, -0.1542859971523285f, 0.f, 0.3457140028476715f,
              0.8411920070648193f, 2.9963626861572266f}), Tol::Near(1e-6))));
  EXPECT_TRUE(CheckOp(OpCase("Mish", 18).Input(Floats(kXs)).Expect(
      Floats({-0.14564746618270874f, -0.30340147018432617f, -0.22074377536773682f, 0.f, 0.37524518370628357f,
              0.8650984168052673f, 2.98653507232666f}), Tol::Near(1e-6))));
  EXPECT_TRUE(CheckOp(OpCase("Celu", 12).Attr("alpha", FloatAttr(2.f)).Input(Floats(kXs)).Expect(
      Floats({-1.5537396669387817f, -0.7869386672973633f, -0.44239842891693115f, 0.f, 0.5f, 1.f, 3.f}),
      Tol::Near(1e-6))));
  EXPECT_TRUE(CheckOp(OpCase("Shrink", 9).Attr("lambd", FloatAttr(0.75f)).Attr("bias", FloatAttr(0.25f))
                          .Input(Floats(kXs)).Expect(Floats({-2.75f, -0.75f, 0.f, 0.f, 0.f, 0.75f, 2.75f}))));
  EXPECT_TRUE(CheckOp(OpCase("ThresholdedRelu", 10).Input(Floats(kXs)).Expect(Floats({0, 0, 0, 0, 0, 0, 3.f}))));
  EXPECT_TRUE(CheckOp(OpCase("ThresholdedRelu").Attr("alpha", FloatAttr(-1.f)).Input(Floats(kXs))
                          .Expect(Floats({0, 0, -0.5f, 0, 0.5f, 1.f, 3.f}))));
}

TEST(ActivationFamily, DefaultsAndSaturation) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  // Softplus never overflows: ln(1 + e^x) ~ x for large x, e^x for very negative x.
  EXPECT_TRUE(CheckOp(OpCase("Softplus").Input(Floats({-1000.f, -20.f, 0.f, 100.f, 1000.f, inf, -inf, nan}))
                          .Expect(Floats({0.f, 2.0611536e-09f, std::log(2.f), 100.f, 1000.f, inf, 0.f, nan}),
                                  Tol::Rel(1e-6))));
  EXPECT_TRUE(CheckOp(OpCase("Mish").Input(Floats({-1000.f, 1000.f, nan})).Expect(Floats({-0.f, 1000.f, nan}))));
  // Elu default alpha 1; Selu's defaults; Celu default alpha 1 equals Elu.
  EXPECT_TRUE(CheckOp(OpCase("Elu").Input(Floats({-1000.f, -1.f, 2.f, nan})).Expect(
      Floats({-1.f, (float)std::expm1(-1.0), 2.f, nan}), Tol::Near(1e-7))));
  EXPECT_TRUE(CheckOp(OpCase("Elu", 7).Attr("alpha", FloatAttr(2.f)).Input(Floats({-1.f, 2.f})).Expect(
      Floats({(float)(2 * std::expm1(-1.0)), 2.f}), Tol::Near(1e-7))));
  const double a = 1.67326319217681884765625, g = 1.05070102214813232421875;
  EXPECT_TRUE(CheckOp(OpCase("Selu").Input(Floats({-1.f, 0.f, 2.f})).Expect(
      Floats({(float)(g * a * std::expm1(-1.0)), 0.f, (float)(g * 2)}), Tol::Near(1e-7))));
  EXPECT_TRUE(CheckOp(OpCase("Celu").Input(Floats({-1.f, 2.f})).Expect(Floats({(float)std::expm1(-1.0), 2.f}),
                                                                        Tol::Near(1e-7))));
  // Shrink defaults: lambd 0.5, bias 0.
  EXPECT_TRUE(CheckOp(OpCase("Shrink").Input(Floats({-1.f, -0.5f, 0.2f, 0.5f, 0.75f, nan}))
                          .Expect(Floats({-1.f, 0.f, 0.f, 0.f, 0.75f, nan}))));
}

TEST(ActivationFamily, LargeInputsMatchTheFormulas) {
  auto ref = [](auto f) {
    return [f](const std::vector<Tensor>& in) {
      Tensor y(DType::kFloat32, in[0].shape());
      for (int64_t i = 0; i < y.numel(); ++i) y.data<float>()[i] = (float)f((double)in[0].data<float>()[i]);
      return std::vector<Tensor>{y};
    };
  };
  auto softplus = [](double v) { return std::log1p(std::exp(v)); };
  Tensor x = Random({3, 7, 1031}, 23, -8.f, 8.f);
  EXPECT_TRUE(CheckOp(OpCase("Elu").Attr("alpha", FloatAttr(0.7f)).Input(x).Reference(
      ref([](double v) { return v < 0 ? 0.7f * std::expm1(v) : v; }), Tol::Near(1e-6))));
  EXPECT_TRUE(CheckOp(OpCase("Selu").Attr("alpha", FloatAttr(1.5f)).Attr("gamma", FloatAttr(2.f)).Input(x).Reference(
      ref([](double v) { return v > 0 ? 2 * v : 2 * (1.5 * std::exp(v) - 1.5); }), Tol::Near(1e-6))));
  EXPECT_TRUE(CheckOp(OpCase("Celu").Attr("alpha", FloatAttr(0.5f)).Input(x).Reference(
      ref([](double v) { return std::max(0.0, v) + std::min(0.0, 0.5 * (std::exp(v / 0.5) - 1)); }), Tol::Near(1e-6))));
  EXPECT_TRUE(CheckOp(OpCase("Softplus").Input(x).Reference(ref(softplus), Tol::Near(1e-6))));
  EXPECT_TRUE(CheckOp(OpCase("ThresholdedRelu").Attr("alpha", FloatAttr(0.25f)).Input(x).Reference(
      ref([](double v) { return v > 0.25 ? v : 0.0; }), Tol::Exact())));
  EXPECT_TRUE(CheckOp(OpCase("Shrink").Attr("lambd", FloatAttr(1.f)).Attr("bias", FloatAttr(0.5f)).Input(x).Reference(
      ref([](double v) { return v < -1 ? v + 0.5 : v > 1 ? v - 0.5 : 0.0; }), Tol::Near(1e-6))));
  EXPECT_TRUE(CheckOp(OpCase("Gelu").Input(x).Reference(
      ref([](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }), Tol::Near(1e-6))));
  EXPECT_TRUE(CheckOp(OpCase("Gelu").Attr("approximate", StringAttr("tanh")).Input(x).Reference(
      ref([](double v) { return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))); }),
      Tol::Near(1e-6))));
  EXPECT_TRUE(CheckOp(OpCase("Mish").Input(x).Reference(
      ref([softplus](double v) { return v * std::tanh(softplus(v)); }), Tol::Near(1e-6))));
}

TEST(ActivationFamily, ShrinkTakesIntegers) {
  // onnx.reference: computed in float64, converted back toward zero.
  EXPECT_TRUE(CheckOp(OpCase("Shrink").Attr("lambd", FloatAttr(1.5f)).Attr("bias", FloatAttr(2.5f))
                          .Input(Make<int8_t>(DType::kInt8, {9}, {-128, -5, -2, -1, 0, 1, 2, 5, 127}))
                          .Expect(Make<int8_t>(DType::kInt8, {9}, {-125, -2, 0, 0, 0, 0, 0, 2, 124}))));
  // Clamped where the shift leaves the type's range.
  EXPECT_TRUE(CheckOp(OpCase("Shrink").Attr("lambd", FloatAttr(1.f)).Attr("bias", FloatAttr(-10.f))
                          .Input(Make<uint8_t>(DType::kUInt8, {3}, {0, 1, 250}))
                          .Expect(Make<uint8_t>(DType::kUInt8, {3}, {0, 0, 255}))));
  EXPECT_TRUE(CheckOp(OpCase("Shrink").Attr("bias", FloatAttr(1.f))
                          .Input(Make<int64_t>(DType::kInt64, {3}, {-7, 0, 7}))
                          .Expect(Make<int64_t>(DType::kInt64, {3}, {-6, 0, 6}))));
}

TEST(ActivationFamily, Float16RunsAsFloat32) {
  Tensor h = Floats(kXs).CastTo(DType::kFloat16);
  EXPECT_TRUE(CheckOp(OpCase("Elu").Input(h).Reference(
      [](const std::vector<Tensor>& in) {  // in[0] is the float16 input
        Tensor y(DType::kFloat32, in[0].shape());
        const std::vector<double> xv = in[0].ToDoubleVector();
        for (int64_t i = 0; i < y.numel(); ++i) {
          const double v = xv[i];
          y.data<float>()[i] = (float)(v < 0 ? std::expm1(v) : v);
        }
        return std::vector<Tensor>{y};
      },
      Tol::Near(1e-6))));
}

TEST(ActivationFamily, RejectsBadAttributesAndIntegers) {
  EXPECT_FALSE(InferOp(OpCase("Gelu").Attr("approximate", StringAttr("erf")), {Info(DType::kFloat32, {3})}).ok());
  EXPECT_FALSE(InferOp(OpCase("Elu").Attr("alpha", StringAttr("x")), {Info(DType::kFloat32, {3})}).ok());
  for (const char* op : {"Elu", "Selu", "Celu", "Softplus", "ThresholdedRelu", "Gelu", "Mish"})
    EXPECT_FALSE(InferOp(OpCase(op), {Info(DType::kInt8, {3})}).ok()) << op;
}

}  // namespace
}  // namespace dopt
