// Float unary ops: Erf, Exp, Sqrt, Tanh, Sigmoid, Neg, LeakyRelu, HardSigmoid, HardSwish.
#include <cmath>
#include <cstring>

#include "check_op.h"
#include "common/kernel_options.h"
#include "kernels/vmath.h"

namespace dopt {
namespace {
using namespace optest;

std::vector<float> RunUnary(const std::string& op, const std::vector<float>& xv, AttrList attrs = {}) {
  std::vector<Tensor> out;
  EXPECT_TRUE(CheckOp(OpCase(op).Attrs(std::move(attrs)).Input(Tensor::FromFloats({(int64_t)xv.size()}, xv)), &out));
  return out.empty() ? std::vector<float>{} : Values<float>(out[0]);
}

TEST(Activations, ReferenceValues) {
  const std::vector<float> xs = {-4.f, -0.5f, 0.f, 0.5f, 4.f};
  auto erf = RunUnary("Erf", xs), ex = RunUnary("Exp", xs), th = RunUnary("Tanh", xs), sg = RunUnary("Sigmoid", xs);
  for (size_t i = 0; i < xs.size(); ++i) {
    EXPECT_NEAR(erf[i], std::erf((double)xs[i]), 1e-6);
    EXPECT_NEAR(ex[i], std::exp((double)xs[i]), 1e-5 * std::exp((double)xs[i]));
    EXPECT_NEAR(th[i], std::tanh((double)xs[i]), 1e-6);
    EXPECT_NEAR(sg[i], 1.0 / (1.0 + std::exp(-(double)xs[i])), 1e-6);
  }
  auto sq = RunUnary("Sqrt", {4.f, 2.f, -1.f});
  EXPECT_EQ(sq[0], 2.f);
  EXPECT_FLOAT_EQ(sq[1], std::sqrt(2.f));
  EXPECT_TRUE(std::isnan(sq[2]));
}

TEST(Activations, SigmoidSaturatesWithoutOverflow) {
  auto sg = RunUnary("Sigmoid", {-1000.f, 1000.f, NAN});
  EXPECT_EQ(sg[0], 0.f);
  EXPECT_EQ(sg[1], 1.f);
  EXPECT_TRUE(std::isnan(sg[2]));
}

TEST(Activations, LeakyReluHardSigmoidHardSwish) {
  auto lr = RunUnary("LeakyRelu", {-10.f, 3.f});
  EXPECT_FLOAT_EQ(lr[0], -0.1f);
  EXPECT_EQ(lr[1], 3.f);
  EXPECT_EQ(RunUnary("LeakyRelu", {-10.f, 3.f}, {{"alpha", FloatAttr(0.5f)}}), (std::vector<float>{-5.f, 3.f}));
  // Defaults alpha 0.2, beta 0.5: 0.2 * x + 0.5 clipped to [0, 1].
  auto hs = RunUnary("HardSigmoid", {-5.f, 0.f, 1.f, 5.f});
  EXPECT_FLOAT_EQ(hs[0], 0.f);
  EXPECT_FLOAT_EQ(hs[1], 0.5f);
  EXPECT_FLOAT_EQ(hs[2], 0.7f);
  EXPECT_FLOAT_EQ(hs[3], 1.f);
  auto hs2 = RunUnary("HardSigmoid", {1.f}, {{"alpha", FloatAttr(0.5f)}, {"beta", FloatAttr(0.25f)}});
  EXPECT_FLOAT_EQ(hs2[0], 0.75f);
  // x * clip(x / 6 + 0.5, 0, 1)
  auto hw = RunUnary("HardSwish", {-4.f, -3.f, 0.f, 1.5f, 3.f, 10.f});
  EXPECT_EQ(hw, (std::vector<float>{0.f, 0.f, 0.f, 1.5f * 0.75f, 3.f, 10.f}));
}

// Every unary op on a tensor big enough to be split across threads, against std:: in double.
TEST(Activations, LargeInputsMatchTheFormulas) {
  Tensor x = Random({3, 7, 1031}, 17, -6.f, 6.f);
  auto ref = [](double (*f)(double)) {
    return [f](const std::vector<Tensor>& in) {
      Tensor y(DType::kFloat32, in[0].shape());
      for (int64_t i = 0; i < y.numel(); ++i) y.data<float>()[i] = (float)f(in[0].data<float>()[i]);
      return std::vector<Tensor>{y};
    };
  };
  struct U { const char* op; double (*f)(double); } ops[] = {
      {"Erf", [](double v) { return std::erf(v); }},
      {"Exp", [](double v) { return std::exp(v); }},
      {"Tanh", [](double v) { return std::tanh(v); }},
      {"Sigmoid", [](double v) { return 1.0 / (1.0 + std::exp(-v)); }},
      {"Neg", [](double v) { return -v; }},
      {"Relu", [](double v) { return std::max(v, 0.0); }},
      {"LeakyRelu", [](double v) { return v < 0 ? 0.01 * v : v; }},
      {"HardSigmoid", [](double v) { return std::min(1.0, std::max(0.0, 0.2 * v + 0.5)); }},
      {"HardSwish", [](double v) { return v * std::min(1.0, std::max(0.0, v / 6 + 0.5)); }},
  };
  for (const U& u : ops) EXPECT_TRUE(CheckOp(OpCase(u.op).Input(x).Reference(ref(u.f), Tol::Near(2e-6))));
  Tensor pos = Random({5, 2053}, 18, 0.f, 100.f);
  EXPECT_TRUE(CheckOp(OpCase("Sqrt").Input(pos).Reference(ref([](double v) { return std::sqrt(v); }), Tol::Near(1e-7))));
}

// Sqrt, HardSwish, LeakyRelu, Floor, Ceil and Round run vectorised loops (clones per ISA): bit for
// bit the scalar float formula, on negative inputs (Sqrt: NaN), zeros of both signs, infinities,
// NaN and halfway values (Round: to even), at any length.
TEST(Activations, VectorisedUnaryOpsAreTheScalarFormulaBitForBit) {
  Tensor x = Random({7, 1031}, 23, -50.f, 50.f);
  const float special[] = {-0.f, 0.f, INFINITY, -INFINITY, NAN, 1e-40f, -1e-40f, 3.f, -3.f, 6e30f, 2.5f, -0.5f, 1.5f};
  for (size_t i = 0; i < sizeof special / sizeof special[0]; ++i) x.data<float>()[i * 97] = special[i];
  struct U { const char* op; float (*f)(float); } ops[] = {
      {"Sqrt", [](float v) { return std::sqrt(v); }},
      {"HardSwish", [](float v) {
         float g = v / 6.f + 0.5f;
         g = g < 0.f ? 0.f : g;
         g = g > 1.f ? 1.f : g;
         return v * g;
       }},
      {"LeakyRelu", [](float v) { return v < 0.f ? 0.01f * v : v; }},
      {"Floor", [](float v) { return std::floor(v); }},
      {"Ceil", [](float v) { return std::ceil(v); }},
      {"Round", [](float v) { return std::nearbyint(v); }}};
  for (const U& u : ops) {
    auto ref = [&u](const std::vector<Tensor>& in) {
      Tensor y(DType::kFloat32, in[0].shape());
      for (int64_t i = 0; i < y.numel(); ++i) y.data<float>()[i] = u.f(in[0].data<float>()[i]);
      return std::vector<Tensor>{y};
    };
    std::vector<Tensor> out;
    ASSERT_TRUE(CheckOp(OpCase(u.op).Input(x).Reference(ref, Tol::Exact()).Threads({2, 3}), &out)) << u.op;
    const std::vector<Tensor> want = ref({x});
    EXPECT_EQ(0, std::memcmp(out[0].raw(), want[0].raw(), out[0].nbytes())) << u.op << ": NaN payloads and signs too";
  }
}

// The ops run the kernels/vmath.h kernels, bit for bit whatever the thread count, and with the
// reference kernels forced the scalar std:: formulas, bit for bit.
TEST(Activations, VMathKernelsAndTheReferencePath) {
  Tensor x = Random({3, 131, 257}, 21, -20.f, 20.f);  // 100k elements: several ParallelFor chunks
  x.data<float>()[7] = NAN;
  x.data<float>()[99] = -INFINITY;
  struct U {
    const char* op;
    void (*array)(const float*, float*, int64_t);
    float (*scalar)(float);
  } ops[] = {
      {"Exp", kernels::ExpArray, [](float v) { return std::exp(v); }},
      {"Sigmoid", kernels::SigmoidArray,
       [](float v) {
         if (v >= 0.f) return 1.f / (1.f + std::exp(-v));
         float e = std::exp(v);
         return e / (1.f + e);
       }},
      {"Tanh", kernels::TanhArray, [](float v) { return std::tanh(v); }},
      {"Erf", kernels::ErfArray, [](float v) { return std::erf(v); }},
  };
  const bool saved = ReferenceKernelsForced();
  ThreadPool pool(3);
  const int64_t n = x.numel();
  for (const U& u : ops) {
    std::vector<float> vec(n), ref(n);
    u.array(x.data<float>(), vec.data(), n);
    for (int64_t i = 0; i < n; ++i) ref[i] = u.scalar(x.data<float>()[i]);
    for (bool forced : {false, true}) {
      SetReferenceKernelsForced(forced);
      for (ThreadPool* p : {(ThreadPool*)nullptr, &pool}) {
        StatusOr<std::vector<Tensor>> out = RunOp(OpCase(u.op).Input(x), p);
        ASSERT_TRUE(out.ok()) << out.status().message();
        const std::vector<float>& want = forced ? ref : vec;
        EXPECT_EQ(std::memcmp((*out)[0].data<float>(), want.data(), n * sizeof(float)), 0)
            << u.op << (forced ? " reference" : " vmath") << (p ? " 3 threads" : " 1 thread");
      }
    }
  }
  SetReferenceKernelsForced(saved);
}

TEST(Activations, NegHandlesIntsAndRejectsWrongTypes) {
  EXPECT_EQ(RunUnary("Neg", {1.5f, -2.f}), (std::vector<float>{-1.5f, 2.f}));
  Tensor x = Make<int8_t>(DType::kInt8, {3}, {-128, 5, 0});
  EXPECT_TRUE(CheckOp(OpCase("Neg").Input(x).Expect(Make<int8_t>(DType::kInt8, {3}, {-128, -5, 0}))));
  EXPECT_FALSE(InferOp(OpCase("Neg"), {Info(DType::kUInt8, {3})}).ok());
  EXPECT_FALSE(InferOp(OpCase("Exp"), {Info(DType::kInt32, {3})}).ok());
  EXPECT_FALSE(InferOp(OpCase("LeakyRelu").Attr("alpha", StringAttr("x")), {Info(DType::kFloat32, {3})}).ok());
}

}  // namespace
}  // namespace dopt
