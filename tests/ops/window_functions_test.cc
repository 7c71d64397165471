// HannWindow, HammingWindow, BlackmanWindow (signal_util's shared shape rule and kernel).
#include <cmath>
#include <numbers>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

// The textbook definitions, in double: N = size (periodic) or size - 1.
double Hann(int64_t i, double n) { return 0.5 - 0.5 * std::cos(2 * std::numbers::pi * (double)i / n); }
double Hamming(int64_t i, double n) { return 25.0 / 46.0 - (1 - 25.0 / 46.0) * std::cos(2 * std::numbers::pi * (double)i / n); }
double Blackman(int64_t i, double n) {
  return 0.42 - 0.5 * std::cos(2 * std::numbers::pi * (double)i / n) + 0.08 * std::cos(4 * std::numbers::pi * (double)i / n);
}

Tensor Want(double (*f)(int64_t, double), int64_t size, bool periodic) {
  std::vector<float> v(size);
  for (int64_t i = 0; i < size; ++i) v[i] = (float)f(i, periodic ? (double)size : (double)size - 1);
  return Tensor::FromFloats({size}, v);
}

TEST(WindowOps, MatchDefinitions) {
  const std::vector<std::pair<const char*, double (*)(int64_t, double)>> ops = {
      {"HannWindow", Hann}, {"HammingWindow", Hamming}, {"BlackmanWindow", Blackman}};
  for (const auto& [name, f] : ops)
    for (int64_t size : {2, 3, 10, 16, 400, 1025})
      for (bool periodic : {false, true}) {
        // Default periodic = 1 when the attribute is absent.
        OpCase c(name, 17);
        if (!periodic || size % 2) c.Attr("periodic", IntAttr(periodic));
        EXPECT_TRUE(CheckOp(c.Input(Tensor::FromInt64s({}, {size})).Expect(Want(f, size, periodic), Tol::Abs(1e-6))
                                .Label("size=" + std::to_string(size) + (periodic ? " periodic" : " symmetric"))));
        // int32 size.
        EXPECT_TRUE(CheckOp(OpCase(name, 17).Attr("periodic", IntAttr(periodic)).Input(Make<int32_t>(DType::kInt32, {}, {(int32_t)size}))
                                .Expect(Want(f, size, periodic), Tol::Abs(1e-6))));
      }
}

// Known values: Hamming's ends are 25/46 - 21/46 = 2/23 (not 0.08); Blackman's are ~0.
TEST(WindowOps, ExactCoefficientsAndTypes) {
  std::vector<Tensor> y;
  ASSERT_TRUE(CheckOp(OpCase("HammingWindow", 17).Attr("periodic", IntAttr(0)).Input(Tensor::FromInt64s({}, {5})), &y));
  EXPECT_NEAR(y[0].data<float>()[0], 2.0 / 23.0, 1e-7);
  EXPECT_NEAR(y[0].data<float>()[2], 1.0, 1e-7);
  // output_datatype: float16 (computed as float32) and int64 (truncated).
  auto inf = InferOp(OpCase("HannWindow", 17).Attr("output_datatype", IntAttr(10)), {Info(DType::kInt64, {})});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].dtype, DType::kFloat16);
  EXPECT_EQ((*inf)[0].shape, (Shape{-1}));
  EXPECT_TRUE(CheckOp(OpCase("HannWindow", 17).Attr("output_datatype", IntAttr(10)).Input(Tensor::FromInt64s({}, {8}))
                          .Expect(Want(Hann, 8, true), Tol::Abs(1e-6))));
  EXPECT_TRUE(CheckOp(OpCase("HannWindow", 17).Attr("output_datatype", IntAttr(7)).Attr("periodic", IntAttr(0))
                          .Input(Tensor::FromInt64s({}, {3})).Expect(Tensor::FromInt64s({3}, {0, 1, 0}))));
  // Size 0: empty.
  EXPECT_TRUE(CheckOp(OpCase("BlackmanWindow", 17).Input(Tensor::FromInt64s({}, {0})).Expect(Tensor::FromFloats({0}, {}))));
}

TEST(WindowOps, Errors) {
  for (const char* name : {"HannWindow", "HammingWindow", "BlackmanWindow"}) {
    auto neg = RunOp(OpCase(name, 17).Input(Tensor::FromInt64s({}, {-4})));
    ASSERT_FALSE(neg.ok());
    EXPECT_NE(neg.status().message().find(name), std::string::npos) << neg.status().message();
    EXPECT_FALSE(RunOp(OpCase(name, 17).Input(Tensor::FromInt64s({}, {int64_t{1} << 40}))).ok());
    EXPECT_FALSE(RunOp(OpCase(name, 17).Input(Tensor::FromInt64s({2}, {3, 4}))).ok());
    EXPECT_FALSE(RunOp(OpCase(name, 17).Attr("periodic", IntAttr(2)).Input(Tensor::FromInt64s({}, {4}))).ok());
    EXPECT_FALSE(RunOp(OpCase(name, 17).Attr("output_datatype", IntAttr(9)).Input(Tensor::FromInt64s({}, {4}))).ok());  // bool
    EXPECT_FALSE(RunOp(OpCase(name, 17).Input(Tensor::FromFloats({}, {4.f}))).ok());
  }
}

}  // namespace
}  // namespace dopt
