#include <cmath>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

Tensor I64(int64_t v) { return Tensor::FromInt64s({}, {v}); }
Tensor F(float v) { return Tensor::FromFloats({}, {v}); }

// ONNX's test_melweightmatrix: 8 mel bins, dft_length 16, 8192 Hz, 0..4096 Hz; the expected
// matrix is the node test's (onnx.reference): edges 0 0 0 1 1 2 3 4 5 6, every band a unit spike.
TEST(MelWeightMatrixOp, OnnxExample) {
  std::vector<float> want(9 * 8, 0.f);
  for (auto [j, i] : std::vector<std::pair<int, int>>{{0, 0}, {0, 1}, {1, 2}, {1, 3}, {2, 4}, {3, 5}, {4, 6}, {5, 7}})
    want[j * 8 + i] = 1;
  EXPECT_TRUE(CheckOp(OpCase("MelWeightMatrix", 17).Inputs({I64(8), I64(16), I64(8192), F(0), F(4096)})
                          .Expect(Tensor::FromFloats({9, 8}, want))));
}

// Independent of the kernel's loop structure: each filter is a triangle through its three
// edge bins; the matrix agrees with that definition for several sizes.
TEST(MelWeightMatrixOp, SweepMatchesTriangles) {
  for (int64_t nmel : {1, 4, 13, 40, 80})
    for (int64_t n : {16, 64, 400, 512})
      for (const std::pair<float, float>& edges : {std::pair<float, float>{0.f, 4000.f}, {20.f, 7600.f}, {300.f, 1000.f}}) {
        const float lo = edges.first, hi = edges.second;
        const int64_t sr = 16000, nspec = n / 2 + 1;
        auto ref = [=](const std::vector<Tensor>&) {
          auto mel = [](double f) { return 2595 * std::log10(1 + f / 700); };
          const double step = (mel(hi) - mel(lo)) / (double)(nmel + 2);
          std::vector<int64_t> e(nmel + 2);
          for (int64_t i = 0; i < nmel + 2; ++i)
            e[i] = (int64_t)std::floor((double)(n + 1) * 700 * (std::pow(10.0, (mel(lo) + (double)i * step) / 2595) - 1) / (double)sr);
          Tensor y(DType::kFloat32, {nspec, nmel});
          for (int64_t i = 0; i < nmel; ++i)
            for (int64_t j = 0; j < nspec; ++j) {
              double v = 0;
              if (j == e[i + 1]) v = 1;
              else if (j >= e[i] && j < e[i + 1]) v = (double)(j - e[i]) / (double)(e[i + 1] - e[i]);
              else if (j > e[i + 1] && j < e[i + 2]) v = (double)(e[i + 2] - j) / (double)(e[i + 2] - e[i + 1]);
              y.data<float>()[j * nmel + i] = (float)v;
            }
          return std::vector<Tensor>{y};
        };
        EXPECT_TRUE(CheckOp(OpCase("MelWeightMatrix", 17).Inputs({I64(nmel), I64(n), I64(sr), F(lo), F(hi)})
                                .Reference(ref, Tol::Abs(1e-6))
                                .Label("mel=" + std::to_string(nmel) + " n=" + std::to_string(n) + " " + std::to_string(lo) + ".." +
                                       std::to_string(hi))));
      }
}

TEST(MelWeightMatrixOp, ShapeRuleTypesAndErrors) {
  const Tensor m = I64(40), n = I64(512);
  auto inf = InferOp(OpCase("MelWeightMatrix", 17).Attr("output_datatype", IntAttr(10)),
                     {Info(DType::kInt64, {}, &m), Info(DType::kInt64, {}, &n), Info(DType::kInt64, {}), Info(DType::kFloat32, {}),
                      Info(DType::kFloat32, {})});
  ASSERT_TRUE(inf.ok()) << inf.status().message();
  EXPECT_EQ((*inf)[0].shape, (Shape{257, 40}));
  EXPECT_EQ((*inf)[0].dtype, DType::kFloat16);
  EXPECT_TRUE(CheckOp(OpCase("MelWeightMatrix", 17).Attr("output_datatype", IntAttr(7))
                          .Inputs({I64(4), I64(64), I64(16000), F(0), F(8000)})));
  auto bad = RunOp(OpCase("MelWeightMatrix", 17).Inputs({I64(8), I64(16), I64(8192), F(0), F(100000)}));  // above Nyquist
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("MelWeightMatrix"), std::string::npos) << bad.status().message();
  EXPECT_FALSE(RunOp(OpCase("MelWeightMatrix", 17).Inputs({I64(8), I64(16), I64(8192), F(0), F(3e38f)})).ok());
  EXPECT_FALSE(RunOp(OpCase("MelWeightMatrix", 17).Inputs({I64(-1), I64(16), I64(8192), F(0), F(4096)})).ok());
  EXPECT_FALSE(RunOp(OpCase("MelWeightMatrix", 17).Inputs({I64(8), I64(0), I64(8192), F(0), F(4096)})).ok());
  EXPECT_FALSE(RunOp(OpCase("MelWeightMatrix", 17).Inputs({I64(8), I64(16), I64(0), F(0), F(4096)})).ok());
  EXPECT_FALSE(RunOp(OpCase("MelWeightMatrix", 17).Inputs({I64(8), I64(16), I64(8192), F(-5), F(4096)})).ok());
  EXPECT_FALSE(RunOp(OpCase("MelWeightMatrix", 17).Inputs({I64(int64_t{1} << 23), I64(int64_t{1} << 29), I64(8192), F(0), F(4096)})).ok());
}

}  // namespace
}  // namespace dopt
