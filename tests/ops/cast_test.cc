#include <cmath>

#include "elem_op_test_util.h"

namespace dopt {
namespace {
using namespace elemtest;

TEST(Cast, FloatToIntTruncatesTowardZeroAndToBool) {
  Tensor x = F({6}, {1.9f, -1.9f, 0.f, -0.5f, 300.7f, NAN});
  {
    Node n = MakeNode("Cast", 1, 1, {{"to", AttrI(7)}});
    auto out = RunNode(n, {&x});
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ((*out)[0].dtype(), DType::kInt64);
    EXPECT_EQ(Values<int64_t>((*out)[0]), (std::vector<int64_t>{1, -1, 0, 0, 300, 0}));
  }
  {
    Node n = MakeNode("Cast", 1, 1, {{"to", AttrI(9)}});
    auto out = RunNode(n, {&x});
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ((*out)[0].dtype(), DType::kBool);
    EXPECT_EQ(Values<uint8_t>((*out)[0]), (std::vector<uint8_t>{1, 1, 0, 1, 1, 1}));
  }
}

TEST(Cast, Float16TargetReportsFloat16ButRunsAsRoundedFloat32) {
  Node n = MakeNode("Cast", 1, 1, {{"to", AttrI(10)}});
  auto info = InferNode(n, {Info(DType::kFloat32, {2, -1})});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*info)[0].dtype, DType::kFloat16);
  EXPECT_EQ((*info)[0].shape, (Shape{2, -1}));
  Tensor x = F({2}, {0.1f, 65504.f});
  auto out = RunNode(n, {&x});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].dtype(), DType::kFloat32);
  auto y = Values<float>((*out)[0]);
  EXPECT_EQ(y[0], HalfToFloat(FloatToHalf(0.1f)));
  EXPECT_NE(y[0], 0.1f);
  EXPECT_EQ(y[1], 65504.f);
}

TEST(Cast, IntToFloatAndSameTypeShares) {
  Tensor x = Make<int32_t>(DType::kInt32, {3}, {-3, 0, 1 << 20});
  Node n = MakeNode("Cast", 1, 1, {{"to", AttrI(1)}});
  auto out = RunNode(n, {&x});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<float>((*out)[0]), (std::vector<float>{-3.f, 0.f, 1048576.f}));
  Node same = MakeNode("Cast", 1, 1, {{"to", AttrI(6)}});
  auto o2 = RunNode(same, {&x});
  ASSERT_TRUE(o2.ok());
  EXPECT_TRUE((*o2)[0].SharesStorageWith(x));
}

TEST(Cast, UnsupportedTargetsAreClearErrors) {
  for (int64_t to : {8, 11, 12, 99}) {
    Node n = MakeNode("Cast", 1, 1, {{"to", AttrI(to)}});
    auto info = InferNode(n, {Info(DType::kFloat32, {2})});
    ASSERT_FALSE(info.ok()) << to;
    EXPECT_EQ(info.status().code(), StatusCode::kUnimplemented);
    EXPECT_NE(info.status().message().find("node 'n' (Cast)"), std::string::npos) << info.status().message();
  }
  Node missing = MakeNode("Cast", 1, 1);
  EXPECT_FALSE(InferNode(missing, {Info(DType::kFloat32, {2})}).ok());
}

}  // namespace
}  // namespace dopt
