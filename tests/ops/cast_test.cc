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
