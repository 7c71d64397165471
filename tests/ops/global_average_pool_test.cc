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

}  // namespace
}  // namespace dopt
