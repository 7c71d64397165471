#include <cmath>

#include "common/thread_pool.h"
#include "elem_op_test_util.h"

namespace dopt {
namespace {
using namespace elemtest;

TEST(QuantizeLinear, PerTensorUInt8RoundsHalfToEvenAndSaturates) {
  Node n = MakeNode("QuantizeLinear", 3, 1);
  Tensor x = F({9}, {0.f, 1.f, 3.f, 5.f, -1.f, -3.f, 1000.f, -1000.f, 2.9999f});
  Tensor s = F({}, {2.f});
  Tensor zp = Make<uint8_t>(DType::kUInt8, {}, {128});
  auto out = RunNode(n, {&x, &s, &zp});
  ASSERT_TRUE(out.ok()) << out.status().message();
  const Tensor& y = (*out)[0];
  EXPECT_EQ(y.dtype(), DType::kUInt8);
  // x / 2 = 0, .5, 1.5, 2.5, -.5, -1.5, 500, -500, 1.49995
  EXPECT_EQ(Values<uint8_t>(y), (std::vector<uint8_t>{128, 128, 130, 130, 128, 126, 255, 0, 129}));
}

TEST(QuantizeLinear, PerTensorInt8) {
  Node n = MakeNode("QuantizeLinear", 3, 1);
  Tensor x = F({6}, {0.25f, 0.75f, -0.25f, 100.f, -100.f, 63.25f});
  Tensor s = F({}, {0.5f});
  Tensor zp = Make<int8_t>(DType::kInt8, {}, {-1});
  auto out = RunNode(n, {&x, &s, &zp});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].dtype(), DType::kInt8);
  // x / .5 = .5, 1.5, -.5, 200, -200, 126.5 -> 0, 2, -0, 200, -200, 126; then -1 and saturate.
  EXPECT_EQ(Values<int8_t>((*out)[0]), (std::vector<int8_t>{-1, 1, -1, 127, -128, 125}));
}

TEST(QuantizeLinear, NoZeroPointGivesUInt8) {
  Node n = MakeNode("QuantizeLinear", 2, 1);
  Tensor x = F({3}, {-1.f, 2.5f, 3.5f});
  Tensor s = F({}, {1.f});
  auto out = RunNode(n, {&x, &s});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].dtype(), DType::kUInt8);
  EXPECT_EQ(Values<uint8_t>((*out)[0]), (std::vector<uint8_t>{0, 2, 4}));
  auto info = InferNode(n, {Info(DType::kFloat32, {-1}), Info(DType::kFloat32, {})});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*info)[0].dtype, DType::kUInt8);
  EXPECT_EQ((*info)[0].shape, (Shape{-1}));
}

TEST(QuantizeLinear, PerAxisAxis0) {
  Node n = MakeNode("QuantizeLinear", 3, 1, {{"axis", AttrI(0)}});
  Tensor x = F({2, 3}, {1.5f, 2.5f, -3.5f, 1.f, 1.25f, -70.f});
  Tensor s = F({2}, {1.f, 0.5f});
  Tensor zp = Make<int8_t>(DType::kInt8, {2}, {0, -5});
  auto out = RunNode(n, {&x, &s, &zp});
  ASSERT_TRUE(out.ok()) << out.status().message();
  // Row 0: 2, 2, -4. Row 1: x / .5 = 2, 2.5 -> 2, -140; -5 -> -3, -3, -145 -> -128.
  EXPECT_EQ(Values<int8_t>((*out)[0]), (std::vector<int8_t>{2, 2, -4, -3, -3, -128}));
}

TEST(QuantizeLinear, PerAxisAxis1MatchesIndependentLoop) {
  // Default axis is 1.
  Node n = MakeNode("QuantizeLinear", 3, 1);
  const int64_t N = 2, C = 3, W = 4;
  std::vector<float> xv;
  for (int i = 0; i < N * C * W; ++i) xv.push_back(0.75f * (float)(i - 9));
  Tensor x = F({N, C, W}, xv);
  const std::vector<float> sv = {0.5f, 1.f, 0.25f};
  const std::vector<uint8_t> zv = {0, 10, 250};
  Tensor s = F({C}, sv);
  Tensor zp = Make<uint8_t>(DType::kUInt8, {C}, zv);
  auto out = RunNode(n, {&x, &s, &zp});
  ASSERT_TRUE(out.ok()) << out.status().message();
  auto got = Values<uint8_t>((*out)[0]);
  for (int64_t b = 0; b < N; ++b)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t w = 0; w < W; ++w) {
        int64_t i = (b * C + c) * W + w;
        double q = std::nearbyint((double)xv[i] / sv[c]) + zv[c];
        q = std::min(255.0, std::max(0.0, q));
        EXPECT_EQ(got[i], (uint8_t)q) << "at " << i;
      }
}

TEST(QuantizeLinear, ResultDoesNotDependOnThreads) {
  Node n = MakeNode("QuantizeLinear", 3, 1);
  std::vector<float> xv(3 * 50000);
  for (size_t i = 0; i < xv.size(); ++i) xv[i] = std::sin((float)i) * 10.f;
  Tensor x = F({1, 3, 50000}, xv);
  Tensor s = F({3}, {0.1f, 0.05f, 0.2f});
  Tensor zp = Make<int8_t>(DType::kInt8, {3}, {0, 3, -3});
  ThreadPool pool(4);
  auto a = RunNode(n, {&x, &s, &zp}, &pool);
  auto b = RunNode(n, {&x, &s, &zp}, nullptr);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(Values<int8_t>((*a)[0]), Values<int8_t>((*b)[0]));
}

TEST(QuantizeLinear, RejectsBadScaleShapeAndTypes) {
  Node n = MakeNode("QuantizeLinear", 3, 1);
  Tensor x = F({2, 3}, {0, 0, 0, 0, 0, 0});
  Tensor s = F({2}, {1.f, 1.f});  // axis 1 has 3 elements
  Tensor zp = Make<uint8_t>(DType::kUInt8, {2}, {0, 0});
  auto out = RunNode(n, {&x, &s, &zp});
  EXPECT_FALSE(out.ok());
  auto info = InferNode(n, {Info(DType::kFloat32, {2, 3}), Info(DType::kFloat32, {2}), Info(DType::kUInt8, {2})});
  EXPECT_FALSE(info.ok());
  auto bad_type = InferNode(n, {Info(DType::kInt64, {2, 3}), Info(DType::kFloat32, {}), Info(DType::kUInt8, {})});
  ASSERT_FALSE(bad_type.ok());
  EXPECT_NE(bad_type.status().message().find("node 'n'"), std::string::npos);
  Node blocked = MakeNode("QuantizeLinear", 2, 1, {{"block_size", AttrI(2)}});
  EXPECT_EQ(InferNode(blocked, {Info(DType::kFloat32, {2, 4}), Info(DType::kFloat32, {2, 2})}).status().code(),
            StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace dopt
