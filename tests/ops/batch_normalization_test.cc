#include <cmath>

#include "check_op.h"

namespace dopt {
namespace {

using namespace optest;

TEST(BatchNormalizationOp, MatchesFormula) {
  Tensor x = Random({2, 3, 4, 5}, 41), s = Random({3}, 42), b = Random({3}, 43), m = Random({3}, 44),
         v = Tensor::FromFloats({3}, {0.5f, 1.f, 2.f});
  std::vector<float> ref;
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t c = (i / 20) % 3;
    ref.push_back((x.data<float>()[i] - m.data<float>()[c]) / std::sqrt(v.data<float>()[c] + 1e-3f) * s.data<float>()[c] +
                  b.data<float>()[c]);
  }
  EXPECT_TRUE(CheckOp(OpCase("BatchNormalization", 15)
                          .Attr("epsilon", FloatAttr(1e-3f))
                          .Inputs({x, s, b, m, v})
                          .Expect(Tensor::FromFloats(x.shape(), ref), Tol::Near(1e-5))));
}

// [N, C] (BatchNorm1d after a Linear) takes the row path.
TEST(BatchNormalizationOp, TwoDimensionalInput) {
  Tensor x = Random({37, 5}, 71), s = Random({5}, 72), b = Random({5}, 73), m = Random({5}, 74),
         v = Tensor::FromFloats({5}, {0.5f, 1.f, 2.f, 3.f, 4.f});
  std::vector<float> ref;
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t c = i % 5;
    ref.push_back((x.data<float>()[i] - m.data<float>()[c]) / std::sqrt(v.data<float>()[c] + 1e-5f) * s.data<float>()[c] +
                  b.data<float>()[c]);
  }
  EXPECT_TRUE(CheckOp(OpCase("BatchNormalization", 15).Inputs({x, s, b, m, v})
                          .Expect(Tensor::FromFloats(x.shape(), ref), Tol::Near(1e-5))));
}

TEST(BatchNormalizationOp, Opset7SpatialZero) {
  Tensor x = Random({2, 2, 3}, 51), s = Random({2, 3}, 52), b = Random({2, 3}, 53), m = Random({2, 3}, 54),
         v = Tensor::FromFloats({2, 3}, {1, 2, 3, 4, 5, 6});
  std::vector<float> ref;
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t j = i % 6;
    ref.push_back((x.data<float>()[i] - m.data<float>()[j]) / std::sqrt(v.data<float>()[j] + 1e-5f) * s.data<float>()[j] +
                  b.data<float>()[j]);
  }
  EXPECT_TRUE(CheckOp(OpCase("BatchNormalization", 7)
                          .Attr("spatial", IntAttr(0))
                          .Inputs({x, s, b, m, v})
                          .Expect(Tensor::FromFloats(x.shape(), ref), Tol::Near(1e-5))
                          .Label("spatial=0")));
}

// training_mode=1 (transformers' BiT standardises its conv weights so): y uses the batch's own
// mean and population variance over every axis but 1; the optional outputs are the running
// statistics updated with momentum.
TEST(BatchNormalizationOp, TrainingModeUsesTheBatchStatistics) {
  Tensor x = Random({2, 3, 2, 5}, 61), s = Random({3}, 62), b = Random({3}, 63), m = Random({3}, 64),
         v = Tensor::FromFloats({3}, {0.5f, 1.f, 2.f});
  const float eps = 1e-3f, momentum = 0.25f;
  std::vector<double> mean(3, 0), var(3, 0);
  for (int64_t i = 0; i < x.numel(); ++i) mean[(i / 10) % 3] += x.data<float>()[i] / 20.0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double d = x.data<float>()[i] - mean[(i / 10) % 3];
    var[(i / 10) % 3] += d * d / 20.0;
  }
  std::vector<float> ref, run_mean, run_var;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int64_t c = (i / 10) % 3;
    ref.push_back((float)((x.data<float>()[i] - mean[c]) / std::sqrt(var[c] + eps) * s.data<float>()[c] +
                          b.data<float>()[c]));
  }
  for (int c = 0; c < 3; ++c) {
    run_mean.push_back((float)(m.data<float>()[c] * momentum + mean[c] * (1 - momentum)));
    run_var.push_back((float)(v.data<float>()[c] * momentum + var[c] * (1 - momentum)));
  }
  EXPECT_TRUE(CheckOp(OpCase("BatchNormalization", 15)
                          .Attr("epsilon", FloatAttr(eps))
                          .Attr("momentum", FloatAttr(momentum))
                          .Attr("training_mode", IntAttr(1))
                          .Inputs({x, s, b, m, v})
                          .Outputs(3)
                          .Expect(0, Tensor::FromFloats(x.shape(), ref), Tol::Near(1e-5))
                          .Expect(1, Tensor::FromFloats({3}, run_mean), Tol::Near(1e-6))
                          .Expect(2, Tensor::FromFloats({3}, run_var), Tol::Near(1e-6))));
}

TEST(BatchNormalizationOp, ExtraOutputsOutsideTrainingModeAreErrors) {
  std::vector<ValueInfo> ins;
  ins.push_back(Info(DType::kFloat32, {1, 3, 2, 2}));
  for (int i = 0; i < 4; ++i) ins.push_back(Info(DType::kFloat32, {3}));
  EXPECT_FALSE(InferOp(OpCase("BatchNormalization", 15).Outputs(3), ins).ok());
  EXPECT_FALSE(InferOp(OpCase("BatchNormalization", 15).Attr("training_mode", IntAttr(1)).Outputs(4), ins).ok());
  ins[1] = Info(DType::kFloat32, {4});
  EXPECT_FALSE(InferOp(OpCase("BatchNormalization", 15), ins).ok());
}

}  // namespace
}  // namespace dopt
