// Dropout and Identity: both pass their input through without copying.
#include "elem_op_test_util.h"

namespace dopt {
namespace {
using namespace elemtest;

TEST(Dropout, InferenceIsIdentityWithTrueMask) {
  Node n = MakeNode("Dropout", 2, 2, {}, 13);
  Tensor x = F({2, 2}, {1.f, -2.f, 3.f, 4.f});
  Tensor r = F({}, {0.7f});
  auto out = RunNode(n, {&x, &r});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE((*out)[0].SharesStorageWith(x));
  EXPECT_EQ((*out)[1].dtype(), DType::kBool);
  EXPECT_EQ(Values<uint8_t>((*out)[1]), (std::vector<uint8_t>{1, 1, 1, 1}));
  auto info = InferNode(n, {Info(DType::kFloat16, {2, -1}), Info(DType::kFloat32, {})});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*info)[0].dtype, DType::kFloat16);
  EXPECT_EQ((*info)[1].dtype, DType::kBool);
  EXPECT_EQ((*info)[1].shape, (Shape{2, -1}));
}

TEST(Dropout, TrainingModeIsAnErrorUnlessRatioIsZero) {
  Node n = MakeNode("Dropout", 3, 1, {}, 13);
  Tensor x = F({2}, {1.f, 2.f});
  Tensor r = F({}, {0.5f});
  Tensor zero = F({}, {0.f});
  Tensor t = Make<uint8_t>(DType::kBool, {}, {1});
  auto out = RunNode(n, {&x, &r, &t});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("training mode is not supported"), std::string::npos);
  EXPECT_FALSE(InferNode(n, {Info(DType::kFloat32, {2}), Info(DType::kFloat32, {}, &r), Info(DType::kBool, {}, &t)}).ok());
  auto ok = RunNode(n, {&x, &zero, &t});
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(Values<float>((*ok)[0]), (std::vector<float>{1.f, 2.f}));
  Node old = MakeNode("Dropout", 1, 1, {{"is_test", AttrI(0)}}, 6);
  EXPECT_FALSE(RunNode(old, {&x}).ok());
}

TEST(Identity, SharesBufferForAnyType) {
  Node n = MakeNode("Identity", 1, 1);
  Tensor x = Make<int64_t>(DType::kInt64, {3}, {1, 2, 3});
  auto out = RunNode(n, {&x});
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE((*out)[0].SharesStorageWith(x));
  EXPECT_EQ((*out)[0].shape(), x.shape());
  auto info = InferNode(n, {UnknownRank(DType::kBool)});
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE((*info)[0].rank_known);
  EXPECT_EQ((*info)[0].dtype, DType::kBool);
}

}  // namespace
}  // namespace dopt
