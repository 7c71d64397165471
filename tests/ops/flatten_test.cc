#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(Flatten, AxisZeroAndRankAxis) {
  Tensor x(DType::kUInt8, {2, 3, 4});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Flatten", 13).Attr("axis", IntAttr(0)).Input(x), &out));
  EXPECT_EQ(out[0].shape(), (Shape{1, 24}));
  ASSERT_TRUE(CheckOp(OpCase("Flatten", 13).Attr("axis", IntAttr(3)).Input(x), &out));
  EXPECT_EQ(out[0].shape(), (Shape{24, 1}));
  EXPECT_FALSE(RunOp(OpCase("Flatten", 13).Attr("axis", IntAttr(4)).Input(x)).ok());
  auto inf = InferOp(OpCase("Flatten", 13), {Info(DType::kFloat32, {-1, 3, 4})});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].shape, (Shape{-1, 12}));
}

}  // namespace
}  // namespace dopt
