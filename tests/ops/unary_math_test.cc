// Elementwise unary math: Abs, Ceil, Floor, Round, Sign, Reciprocal, Log, the trigonometric and
// hyperbolic functions and their inverses, Softsign, IsNaN, IsInf, Not.
#include <cmath>
#include <limits>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

// A reference function applying f in double to every element of input 0.
RefFn Elementwise(double (*f)(double)) {
  return [f](const std::vector<Tensor>& in) {
    Tensor y(DType::kFloat32, in[0].shape());
    for (int64_t i = 0; i < y.numel(); ++i) y.data<float>()[i] = (float)f(in[0].data<float>()[i]);
    return std::vector<Tensor>{y};
  };
}

Tensor Floats(const std::vector<float>& v) { return Tensor::FromFloats({(int64_t)v.size()}, v); }

// Every float op on a tensor big enough to be split across threads, over its domain, against
// std:: in double, at the newest opset and the first one it exists at (>= 7).
TEST(UnaryMath, LargeInputsMatchTheFormulas) {
  struct U { const char* op; int first_opset; float lo, hi; double (*f)(double); } ops[] = {
      {"Ceil", 7, -50.f, 50.f, [](double v) { return std::ceil(v); }},
      {"Floor", 7, -50.f, 50.f, [](double v) { return std::floor(v); }},
      {"Round", 11, -50.f, 50.f, [](double v) { return std::nearbyint(v); }},
      {"Reciprocal", 7, 0.1f, 10.f, [](double v) { return 1 / v; }},
      {"Log", 7, 0.001f, 100.f, [](double v) { return std::log(v); }},
      {"Sin", 7, -10.f, 10.f, [](double v) { return std::sin(v); }},
      {"Cos", 7, -10.f, 10.f, [](double v) { return std::cos(v); }},
      {"Tan", 7, -1.5f, 1.5f, [](double v) { return std::tan(v); }},
      {"Asin", 7, -1.f, 1.f, [](double v) { return std::asin(v); }},
      {"Acos", 7, -1.f, 1.f, [](double v) { return std::acos(v); }},
      {"Atan", 7, -20.f, 20.f, [](double v) { return std::atan(v); }},
      {"Sinh", 9, -8.f, 8.f, [](double v) { return std::sinh(v); }},
      {"Cosh", 9, -8.f, 8.f, [](double v) { return std::cosh(v); }},
      {"Asinh", 9, -50.f, 50.f, [](double v) { return std::asinh(v); }},
      {"Acosh", 9, 1.f, 50.f, [](double v) { return std::acosh(v); }},
      {"Atanh", 9, -0.99f, 0.99f, [](double v) { return std::atanh(v); }},
      {"Softsign", 7, -20.f, 20.f, [](double v) { return v / (1 + std::fabs(v)); }},
      {"Abs", 7, -20.f, 20.f, [](double v) { return std::fabs(v); }},
      {"Sign", 9, -2.f, 2.f, [](double v) { return v > 0 ? 1.0 : v < 0 ? -1.0 : 0.0; }},
  };
  uint32_t seed = 40;
  for (const U& u : ops) {
    Tensor x = Random({3, 5, 1031}, seed++, u.lo, u.hi);
    for (int opset : {u.first_opset, kLatestOpset})
      EXPECT_TRUE(CheckOp(OpCase(u.op, opset).Input(x).Reference(Elementwise(u.f), Tol::Near(1e-6))));
  }
}

TEST(UnaryMath, RoundHalvesToEvenAndSpecialValuesPassThrough) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(CheckOp(OpCase("Round").Input(Floats({-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 2.4f, 2.6f, -inf, nan}))
                          .Expect(Floats({-2.f, -2.f, -0.f, 0.f, 2.f, 2.f, 2.f, 3.f, -inf, nan}))));
  EXPECT_TRUE(CheckOp(OpCase("Floor").Input(Floats({-1.5f, 1.5f, inf, nan})).Expect(Floats({-2.f, 1.f, inf, nan}))));
  EXPECT_TRUE(CheckOp(OpCase("Ceil").Input(Floats({-1.5f, 1.5f, -inf, nan})).Expect(Floats({-1.f, 2.f, -inf, nan}))));
  EXPECT_TRUE(CheckOp(OpCase("Reciprocal").Input(Floats({0.f, -4.f})).Expect(Floats({inf, -0.25f}))));
  EXPECT_TRUE(CheckOp(OpCase("Log").Input(Floats({0.f, -1.f, 1.f})).Expect(Floats({-inf, nan, 0.f}))));
  EXPECT_TRUE(CheckOp(OpCase("Acosh").Input(Floats({0.5f, 1.f})).Expect(Floats({nan, 0.f}))));
  EXPECT_TRUE(CheckOp(OpCase("Atanh").Input(Floats({-1.f, 1.f, 2.f})).Expect(Floats({-inf, inf, nan}))));
  EXPECT_TRUE(CheckOp(OpCase("Sign").Input(Floats({-3.f, 0.f, 2.f, nan, -inf})).Expect(Floats({-1.f, 0.f, 1.f, nan, -1.f}))));
}

TEST(UnaryMath, Float16RunsAsFloat32) {
  Tensor h = Floats({-2.5f, -0.5f, 0.5f, 1.5f, 2.75f}).CastTo(DType::kFloat16);
  EXPECT_TRUE(CheckOp(OpCase("Round").Input(h).Expect(Floats({-2.f, -0.f, 0.f, 2.f, 3.f}))));
  EXPECT_TRUE(CheckOp(OpCase("Abs").Input(h).Expect(Floats({2.5f, 0.5f, 0.5f, 1.5f, 2.75f}))));
  EXPECT_TRUE(CheckOp(OpCase("IsInf").Input(Floats({-INFINITY, 1.f}).CastTo(DType::kFloat16))
                          .Expect(Make<uint8_t>(DType::kBool, {2}, {1, 0}))));
}

TEST(UnaryMath, AbsAndSignTakeIntegers) {
  EXPECT_TRUE(CheckOp(OpCase("Abs").Input(Make<int8_t>(DType::kInt8, {4}, {-128, -5, 0, 7}))
                          .Expect(Make<int8_t>(DType::kInt8, {4}, {-128, 5, 0, 7}))));
  EXPECT_TRUE(CheckOp(OpCase("Abs").Input(Make<uint8_t>(DType::kUInt8, {3}, {0, 200, 255}))
                          .Expect(Make<uint8_t>(DType::kUInt8, {3}, {0, 200, 255}))));
  EXPECT_TRUE(CheckOp(OpCase("Abs").Input(Make<int16_t>(DType::kInt16, {2}, {-300, 300}))
                          .Expect(Make<int16_t>(DType::kInt16, {2}, {300, 300}))));
  EXPECT_TRUE(CheckOp(OpCase("Abs").Input(Make<int32_t>(DType::kInt32, {2}, {-70000, 3}))
                          .Expect(Make<int32_t>(DType::kInt32, {2}, {70000, 3}))));
  EXPECT_TRUE(CheckOp(OpCase("Abs").Input(Make<int64_t>(DType::kInt64, {2}, {-(int64_t(1) << 40), 0}))
                          .Expect(Make<int64_t>(DType::kInt64, {2}, {int64_t(1) << 40, 0}))));
  EXPECT_TRUE(CheckOp(OpCase("Sign").Input(Make<int8_t>(DType::kInt8, {4}, {-128, -5, 0, 7}))
                          .Expect(Make<int8_t>(DType::kInt8, {4}, {-1, -1, 0, 1}))));
  EXPECT_TRUE(CheckOp(OpCase("Sign").Input(Make<uint8_t>(DType::kUInt8, {3}, {0, 1, 255}))
                          .Expect(Make<uint8_t>(DType::kUInt8, {3}, {0, 1, 1}))));
  EXPECT_TRUE(CheckOp(OpCase("Sign").Input(Make<int64_t>(DType::kInt64, {3}, {-(int64_t(1) << 40), 0, 9}))
                          .Expect(Make<int64_t>(DType::kInt64, {3}, {-1, 0, 1}))));
  // Integers split across threads.
  std::vector<int32_t> big(50000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = (int32_t)(i * 7919 % 2001) - 1000;
  std::vector<int32_t> abs_big(big.size());
  for (size_t i = 0; i < big.size(); ++i) abs_big[i] = big[i] < 0 ? -big[i] : big[i];
  EXPECT_TRUE(CheckOp(OpCase("Abs").Input(Make<int32_t>(DType::kInt32, {50000}, big))
                          .Expect(Make<int32_t>(DType::kInt32, {50000}, abs_big))));
}

TEST(UnaryMath, FloatOnlyOpsRejectIntegers) {
  for (const char* op : {"Ceil", "Floor", "Round", "Reciprocal", "Log", "Sin", "Acosh", "Softsign", "IsNaN", "IsInf"})
    EXPECT_FALSE(InferOp(OpCase(op), {Info(DType::kInt32, {3})}).ok()) << op;
  EXPECT_FALSE(InferOp(OpCase("Not"), {Info(DType::kFloat32, {3})}).ok());
  EXPECT_FALSE(InferOp(OpCase("Abs"), {Info(DType::kBool, {3})}).ok());
}

TEST(UnaryMath, IsNaNIsInfAndNot) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  Tensor x = Floats({-inf, -1.f, 0.f, nan, 2.f, inf});
  auto b = [](std::vector<uint8_t> v) { return Make<uint8_t>(DType::kBool, {(int64_t)v.size()}, v); };
  EXPECT_TRUE(CheckOp(OpCase("IsNaN").Input(x).Expect(b({0, 0, 0, 1, 0, 0}))));
  EXPECT_TRUE(CheckOp(OpCase("IsInf").Input(x).Expect(b({1, 0, 0, 0, 0, 1}))));
  EXPECT_TRUE(CheckOp(OpCase("IsInf", 10).Attr("detect_positive", IntAttr(0)).Input(x).Expect(b({1, 0, 0, 0, 0, 0}))));
  EXPECT_TRUE(CheckOp(OpCase("IsInf").Attr("detect_negative", IntAttr(0)).Input(x).Expect(b({0, 0, 0, 0, 0, 1}))));
  EXPECT_TRUE(CheckOp(OpCase("IsInf").Attr("detect_negative", IntAttr(0)).Attr("detect_positive", IntAttr(0))
                          .Input(x).Expect(b({0, 0, 0, 0, 0, 0}))));
  EXPECT_TRUE(CheckOp(OpCase("Not").Input(b({1, 0, 0, 1})).Expect(b({0, 1, 1, 0}))));
  std::vector<uint8_t> big(40000), not_big(40000);
  for (size_t i = 0; i < big.size(); ++i) not_big[i] = !(big[i] = (i % 3) == 0);
  EXPECT_TRUE(CheckOp(OpCase("Not").Input(b(big)).Expect(b(not_big))));
  Tensor r = Random({40000}, 7, -1.f, 1.f);
  for (int64_t i = 0; i < r.numel(); i += 3) r.data<float>()[i] = (i % 2) ? inf : nan;
  EXPECT_TRUE(CheckOp(OpCase("IsNaN").Input(r)));
  EXPECT_TRUE(CheckOp(OpCase("IsInf").Input(r)));
}

}  // namespace
}  // namespace dopt
