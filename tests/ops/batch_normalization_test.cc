#include <cmath>

#include "op_test_util.h"

namespace dopt {
namespace {

using namespace optest;

TEST(BatchNormalizationOp, MatchesFormula) {
  Tensor x = Random({2, 3, 4, 5}, 41), s = Random({3}, 42), b = Random({3}, 43), m = Random({3}, 44),
         v = Tensor::FromFloats({3}, {0.5f, 1.f, 2.f});
  Node n = MakeNode("BatchNormalization", {{"epsilon", Float(1e-3f)}}, 5, 1, 15);
  ThreadPool pool(2);
  auto r = RunNode(n, {&x, &s, &b, &m, &v}, &pool);
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::vector<float> ref;
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t c = (i / 20) % 3;
    ref.push_back((x.data<float>()[i] - m.data<float>()[c]) / std::sqrt(v.data<float>()[c] + 1e-3f) * s.data<float>()[c] +
                  b.data<float>()[c]);
  }
  ExpectNear((*r)[0], ref, 1e-5f, "bn");
}

TEST(BatchNormalizationOp, Opset7SpatialZero) {
  Tensor x = Random({2, 2, 3}, 51), s = Random({2, 3}, 52), b = Random({2, 3}, 53), m = Random({2, 3}, 54),
         v = Tensor::FromFloats({2, 3}, {1, 2, 3, 4, 5, 6});
  Node n = MakeNode("BatchNormalization", {{"spatial", Int(0)}}, 5, 1, 7);
  auto r = RunNode(n, {&x, &s, &b, &m, &v});
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::vector<float> ref;
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t j = i % 6;
    ref.push_back((x.data<float>()[i] - m.data<float>()[j]) / std::sqrt(v.data<float>()[j] + 1e-5f) * s.data<float>()[j] +
                  b.data<float>()[j]);
  }
  ExpectNear((*r)[0], ref, 1e-5f, "bn spatial=0");
}

TEST(BatchNormalizationOp, TrainingModeAndExtraOutputsAreErrors) {
  std::vector<ValueInfo> ins;
  ins.push_back(Info(DType::kFloat32, {1, 3, 2, 2}));
  for (int i = 0; i < 4; ++i) ins.push_back(Info(DType::kFloat32, {3}));
  Node t = MakeNode("BatchNormalization", {{"training_mode", Int(1)}}, 5, 1, 15);
  auto r = InferNode(t, ins);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("training_mode"), std::string::npos);
  Node extra = MakeNode("BatchNormalization", {}, 5, 3, 15);
  EXPECT_FALSE(InferNode(extra, ins).ok());
  ins[1] = Info(DType::kFloat32, {4});
  Node n = MakeNode("BatchNormalization", {}, 5, 1, 15);
  EXPECT_FALSE(InferNode(n, ins).ok());
}

}  // namespace
}  // namespace dopt
