// Dropout and Identity: both pass their input through without copying.
#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(Dropout, InferenceIsIdentityWithTrueMask) {
  Tensor x = Tensor::FromFloats({2, 2}, {1.f, -2.f, 3.f, 4.f});
  Tensor r = Tensor::FromFloats({}, {0.7f});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Dropout", 13).Inputs({x, r}).Outputs(2), &out));
  EXPECT_TRUE(out[0].SharesStorageWith(x));
  EXPECT_EQ(out[1].dtype(), DType::kBool);
  EXPECT_EQ(Values<uint8_t>(out[1]), (std::vector<uint8_t>{1, 1, 1, 1}));
  auto info = InferOp(OpCase("Dropout", 13).Outputs(2), {Info(DType::kFloat16, {2, -1}), Info(DType::kFloat32, {})});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*info)[0].dtype, DType::kFloat16);
  EXPECT_EQ((*info)[1].dtype, DType::kBool);
  EXPECT_EQ((*info)[1].shape, (Shape{2, -1}));
}

TEST(Dropout, TrainingModeIsAnErrorUnlessRatioIsZero) {
  Tensor x = Tensor::FromFloats({2}, {1.f, 2.f});
  Tensor r = Tensor::FromFloats({}, {0.5f});
  Tensor zero = Tensor::FromFloats({}, {0.f});
  Tensor t = Make<uint8_t>(DType::kBool, {}, {1});
  auto out = RunOp(OpCase("Dropout", 13).Inputs({x, r, t}));
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("training mode is not supported"), std::string::npos);
  EXPECT_FALSE(InferOp(OpCase("Dropout", 13), {Info(DType::kFloat32, {2}), Info(DType::kFloat32, {}, &r), Info(DType::kBool, {}, &t)}).ok());
  EXPECT_TRUE(CheckOp(OpCase("Dropout", 13).Inputs({x, zero, t}).Expect(Tensor::FromFloats({2}, {1.f, 2.f}))));
  EXPECT_FALSE(RunOp(OpCase("Dropout", 6).Attr("is_test", IntAttr(0)).Input(x)).ok());
}

TEST(Identity, SharesBufferForAnyType) {
  Tensor x = Make<int64_t>(DType::kInt64, {3}, {1, 2, 3});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Identity").Input(x), &out));
  EXPECT_TRUE(out[0].SharesStorageWith(x));
  EXPECT_EQ(out[0].shape(), x.shape());
  auto info = InferOp(OpCase("Identity"), {UnknownRank(DType::kBool)});
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE((*info)[0].rank_known);
  EXPECT_EQ((*info)[0].dtype, DType::kBool);
}

}  // namespace
}  // namespace dopt
