#include "op_test_util.h"

namespace dopt {
namespace {

using namespace optest;

TEST(GlobalAveragePoolOp, MeansOverSpatialDims) {
  Tensor x = Tensor::FromFloats({1, 2, 2, 3}, {1, 2, 3, 4, 5, 6, 10, 10, 10, 10, 10, 16});
  Node n = MakeNode("GlobalAveragePool", {}, 1, 1);
  auto r = RunNode(n, {&x});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].shape(), (Shape{1, 2, 1, 1}));
  ExpectNear((*r)[0], {3.5f, 11}, 1e-6f, "gap");
  auto inf = InferNode(n, {Info(DType::kFloat16, {-1, 8, -1, -1, 4})});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].shape, (Shape{-1, 8, 1, 1, 1}));
  EXPECT_FALSE(InferNode(n, {Info(DType::kInt64, {1, 2, 3})}).ok());
}

}  // namespace
}  // namespace dopt
