#include <cmath>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(Cast, FloatToIntTruncatesTowardZeroAndToBool) {
  Tensor x = Tensor::FromFloats({6}, {1.9f, -1.9f, 0.f, -0.5f, 300.7f, NAN});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Cast").Attr("to", IntAttr(7)).Input(x), &out));
  EXPECT_EQ(out[0].dtype(), DType::kInt64);
  EXPECT_EQ(Values<int64_t>(out[0]), (std::vector<int64_t>{1, -1, 0, 0, 300, 0}));
  ASSERT_TRUE(CheckOp(OpCase("Cast").Attr("to", IntAttr(9)).Input(x), &out));
  EXPECT_EQ(out[0].dtype(), DType::kBool);
  EXPECT_EQ(Values<uint8_t>(out[0]), (std::vector<uint8_t>{1, 1, 0, 1, 1, 1}));
}

TEST(Cast, Float16TargetReportsFloat16ButRunsAsRoundedFloat32) {
  OpCase c = OpCase("Cast").Attr("to", IntAttr(10));
  auto info = InferOp(c, {Info(DType::kFloat32, {2, -1})});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*info)[0].dtype, DType::kFloat16);
  EXPECT_EQ((*info)[0].shape, (Shape{2, -1}));
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase(c).Input(Tensor::FromFloats({2}, {0.1f, 65504.f})), &out));
  EXPECT_EQ(out[0].dtype(), DType::kFloat32);
  auto y = Values<float>(out[0]);
  EXPECT_EQ(y[0], HalfToFloat(FloatToHalf(0.1f)));
  EXPECT_NE(y[0], 0.1f);
  EXPECT_EQ(y[1], 65504.f);
}

TEST(Cast, IntToFloatAndSameTypeShares) {
  Tensor x = Make<int32_t>(DType::kInt32, {3}, {-3, 0, 1 << 20});
  EXPECT_TRUE(CheckOp(OpCase("Cast").Attr("to", IntAttr(1)).Input(x).Expect(Tensor::FromFloats({3}, {-3.f, 0.f, 1048576.f}))));
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Cast").Attr("to", IntAttr(6)).Input(x), &out));
  EXPECT_TRUE(out[0].SharesStorageWith(x));
}

// float32 -> integer types on a tensor split across threads (the kernel's own truncating
// loop) against Tensor::CastTo.
TEST(Cast, FloatToIntegersMatchCastTo) {
  Tensor x = Random({4, 9001}, 5, -100.f, 100.f);
  const std::pair<DType, int64_t> types[] = {{DType::kInt8, 3}, {DType::kInt16, 5}, {DType::kInt32, 6}, {DType::kInt64, 7}};
  for (auto [to, onnx] : types)
    EXPECT_TRUE(CheckOp(OpCase("Cast").Attr("to", IntAttr(onnx)).Input(x).Expect(x.CastTo(to)).Label(DTypeName(to))));
  Tensor pos = Random({4, 9001}, 6, 0.f, 255.f);
  EXPECT_TRUE(CheckOp(OpCase("Cast").Attr("to", IntAttr(2)).Input(pos).Expect(pos.CastTo(DType::kUInt8)).Label("uint8")));
}

// Bool and integer sources to float32, bool and every integer type, and float32 to bool (the
// typed parallel loops) against Tensor::CastTo, exactly: wrapping, int64 beyond 2^53 (float32
// through double, as CastTo), zero and non-zero to bool, NaN to bool.
TEST(Cast, TypedPathsMatchCastTo) {
  const int64_t n = 3 * 9001;
  std::vector<int64_t> v((size_t)n);
  uint64_t st = 77;
  for (int64_t i = 0; i < n; ++i) {
    st = st * 6364136223846793005ull + 1442695040888963407ull;
    v[(size_t)i] = (int64_t)(st >> 1) >> (i % 60);
  }
  v[0] = 0;
  v[1] = (int64_t{1} << 53) + 1;
  v[2] = -(int64_t{1} << 62) - 3;
  v[3] = (int64_t{1} << 60) + (int64_t{1} << 36) + 1;  // float32 directly != through double
  const std::pair<DType, int64_t> onnx[] = {{DType::kFloat32, 1}, {DType::kBool, 9},  {DType::kInt8, 3}, {DType::kUInt8, 2},
                                            {DType::kInt16, 5},   {DType::kInt32, 6}, {DType::kInt64, 7}};
  Tensor i64 = Tensor::FromInt64s({n}, v);
  for (DType from : {DType::kBool, DType::kUInt8, DType::kInt8, DType::kInt16, DType::kInt32, DType::kInt64}) {
    const Tensor x = i64.CastTo(from);
    for (auto [to, code] : onnx) {
      if (to == from) continue;
      EXPECT_TRUE(CheckOp(OpCase("Cast").Attr("to", IntAttr(code)).Input(x).Expect(x.CastTo(to), Tol::Exact())
                              .Label(std::string(DTypeName(from)) + " -> " + DTypeName(to))));
    }
  }
  Tensor f = Random({n}, 8, -2.f, 2.f);
  f.data<float>()[0] = 0.f;
  f.data<float>()[1] = -0.f;
  f.data<float>()[2] = NAN;
  EXPECT_TRUE(CheckOp(OpCase("Cast").Attr("to", IntAttr(9)).Input(f).Expect(f.CastTo(DType::kBool), Tol::Exact())));
}

TEST(Cast, UnsupportedTargetsAreClearErrors) {
  for (int64_t to : {8, 11, 12, 99}) {
    auto info = InferOp(OpCase("Cast").Attr("to", IntAttr(to)), {Info(DType::kFloat32, {2})});
    ASSERT_FALSE(info.ok()) << to;
    EXPECT_EQ(info.status().code(), StatusCode::kUnimplemented);
    EXPECT_NE(info.status().message().find("node 'n' (Cast)"), std::string::npos) << info.status().message();
  }
  EXPECT_FALSE(InferOp(OpCase("Cast"), {Info(DType::kFloat32, {2})}).ok());
}

}  // namespace
}  // namespace dopt
