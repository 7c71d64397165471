#include "check_op.h"

namespace dopt {
namespace {

using namespace optest;

TEST(GlobalAveragePoolOp, MeansOverSpatialDims) {
  Tensor x = Tensor::FromFloats({1, 2, 2, 3}, {1, 2, 3, 4, 5, 6, 10, 10, 10, 10, 10, 16});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("GlobalAveragePool").Input(x).Expect(Tensor::FromFloats({1, 2, 1, 1}, {3.5f, 11}), Tol::Near(1e-6)),
                      &out));
  EXPECT_EQ(out[0].shape(), (Shape{1, 2, 1, 1}));
  auto inf = InferOp(OpCase("GlobalAveragePool"), {Info(DType::kFloat16, {-1, 8, -1, -1, 4})});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].shape, (Shape{-1, 8, 1, 1, 1}));
  EXPECT_FALSE(InferOp(OpCase("GlobalAveragePool"), {Info(DType::kInt64, {1, 2, 3})}).ok());
}

// Many planes (split across threads) of 1-D, 2-D and 3-D extent, against the pixel-order double sum.
TEST(GlobalAveragePoolOp, LargeInputsMatchMean) {
  for (const Shape& s : {Shape{2, 37, 500}, Shape{3, 17, 13, 11}, Shape{1, 64, 3, 5, 7}}) {
    auto ref = [](const std::vector<Tensor>& in) {
      Shape os = {in[0].dim(0), in[0].dim(1)};
      int64_t plane = 1;
      for (int d = 2; d < in[0].rank(); ++d) {
        plane *= in[0].dim(d);
        os.push_back(1);
      }
      Tensor y(DType::kFloat32, os);
      for (int64_t p = 0; p < y.numel(); ++p) {
        double sum = 0;
        for (int64_t k = 0; k < plane; ++k) sum += in[0].data<float>()[p * plane + k];
        y.data<float>()[p] = (float)(sum / (double)plane);
      }
      return std::vector<Tensor>{y};
    };
    // Exact: each plane is summed in pixel order in double (eight planes interleaved, same bits).
    EXPECT_TRUE(CheckOp(OpCase("GlobalAveragePool").Input(Random(s, 91)).Reference(ref, Tol::Exact()).Label(ShapeToString(s))));
  }
}

}  // namespace
}  // namespace dopt
