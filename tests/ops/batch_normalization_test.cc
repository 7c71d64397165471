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

TEST(BatchNormalizationOp, TrainingModeAndExtraOutputsAreErrors) {
  std::vector<ValueInfo> ins;
  ins.push_back(Info(DType::kFloat32, {1, 3, 2, 2}));
  for (int i = 0; i < 4; ++i) ins.push_back(Info(DType::kFloat32, {3}));
  auto r = InferOp(OpCase("BatchNormalization", 15).Attr("training_mode", IntAttr(1)), ins);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("training_mode"), std::string::npos);
  EXPECT_FALSE(InferOp(OpCase("BatchNormalization", 15).Outputs(3), ins).ok());
  ins[1] = Info(DType::kFloat32, {4});
  EXPECT_FALSE(InferOp(OpCase("BatchNormalization", 15), ins).ok());
}

}  // namespace
}  // namespace dopt
