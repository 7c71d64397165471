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

// Every axis of a 4-D tensor, with inputs big enough to be copied on several threads.
TEST(Concat, EveryAxisMatchesIndexArithmetic) {
  const Shape base = {3, 5, 17, 41};
  for (int axis = -4; axis < 4; ++axis) {
    const int ax = axis < 0 ? axis + 4 : axis;
    std::vector<Tensor> ins;
    for (int64_t extent : {1, 4, 2}) {
      Shape s = base;
      s[ax] = extent * (ax == 0 ? 1 : 3);
      ins.push_back(Random(s, (uint32_t)(100 + ax * 3 + extent)));
    }
    auto ref = [ax](const std::vector<Tensor>& in) {
      Shape os = in[0].shape();
      os[ax] = 0;
      for (const Tensor& t : in) os[ax] += t.dim(ax);
      Tensor y(DType::kFloat32, os);
      int64_t outer = 1, inner = 1;
      for (int d = 0; d < ax; ++d) outer *= os[d];
      for (int d = ax + 1; d < 4; ++d) inner *= os[d];
      float* yp = y.data<float>();
      for (int64_t o = 0; o < outer; ++o)
        for (const Tensor& t : in) {
          const int64_t row = t.dim(ax) * inner;
          for (int64_t k = 0; k < row; ++k) *yp++ = t.data<float>()[o * row + k];
        }
      return std::vector<Tensor>{y};
    };
    EXPECT_TRUE(CheckOp(OpCase("Concat").Attr("axis", IntAttr(axis)).Inputs(ins).Reference(ref, Tol::Exact())
                            .Label("axis " + std::to_string(axis))));
  }
}

}  // namespace
}  // namespace dopt
