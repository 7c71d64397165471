#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(Concat, Int64NegativeAxisSkipsEmpty) {
  Tensor a = Tensor::FromInt64s({2, 1}, {1, 2});
  Tensor e(DType::kInt64, {2, 0});
  Tensor b = Tensor::FromInt64s({2, 2}, {3, 4, 5, 6});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Concat", 13).Attr("axis", IntAttr(-1)).Inputs({a, e, b}), &out));
  EXPECT_EQ(out[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(out[0].ToInt64Vector(), (std::vector<int64_t>{1, 3, 4, 2, 5, 6}));
  auto inf = InferOp(OpCase("Concat", 13).Attr("axis", IntAttr(0)),
                     {Info(DType::kFloat32, {2, -1}), Info(DType::kFloat32, {3, 4})});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].shape, (Shape{5, 4}));
  EXPECT_FALSE(InferOp(OpCase("Concat", 13).Attr("axis", IntAttr(0)),
                       {Info(DType::kFloat32, {2, 3}), Info(DType::kInt64, {3, 3})}).ok());
}

}  // namespace
}  // namespace dopt
