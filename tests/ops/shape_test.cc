#include "shape_ops_test_util.h"

namespace dopt {
namespace {
using namespace shape_ops_test;

TEST(ShapeOp, StartEndAreClamped) {
  Tensor x(DType::kFloat32, {2, 3, 5});
  auto out = RunOp(MakeNode("Shape", 15, {AInt("start", -2), AInt("end", 100)}), {&x});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].ToInt64Vector(), (std::vector<int64_t>{3, 5}));
  EXPECT_EQ((*out)[0].dtype(), DType::kInt64);
  auto inf = InferOp(MakeNode("Shape", 15, {AInt("start", 2), AInt("end", 1)}), {Info(DType::kFloat32, {-1, 3, 5})});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].shape, (Shape{0}));
}

}  // namespace
}  // namespace dopt
