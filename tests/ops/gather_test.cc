#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(Gather, ScalarNegativeIndexDropsAxis) {
  Tensor x = Tensor::FromFloats({2, 3}, {0, 1, 2, 3, 4, 5});
  Tensor i = Tensor::FromInt64s({}, {-1});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Gather", 13).Attr("axis", IntAttr(1)).Inputs({x, i}), &out));
  EXPECT_EQ(out[0].shape(), (Shape{2}));
  EXPECT_EQ(Values<float>(out[0]), (std::vector<float>{2, 5}));
  Tensor i32 = Tensor::FromInt64s({2}, {1, 0}).CastTo(DType::kInt32);
  ASSERT_TRUE(CheckOp(OpCase("Gather", 13).Inputs({x, i32}), &out));
  EXPECT_EQ(Values<float>(out[0]), (std::vector<float>{3, 4, 5, 0, 1, 2}));
  Tensor bad = Tensor::FromInt64s({1}, {2});
  EXPECT_FALSE(RunOp(OpCase("Gather", 13).Inputs({x, bad})).ok());
}

// Every axis, 2-D indices with negative entries, on data big enough to be split.
TEST(Gather, EveryAxisMatchesIndexArithmetic) {
  Tensor x = Random({6, 7, 300}, 90);
  for (int axis = 0; axis < 3; ++axis) {
    const int64_t n = x.dim(axis);
    Tensor idx = Tensor::FromInt64s({2, 3}, {0, n - 1, -1, 2, -n, 1});
    auto ref = [axis](const std::vector<Tensor>& in) {
      const Tensor& d = in[0];
      const std::vector<int64_t> ix = in[1].ToInt64Vector();
      Shape os;
      for (int k = 0; k < axis; ++k) os.push_back(d.dim(k));
      for (int64_t v : in[1].shape()) os.push_back(v);
      for (int k = axis + 1; k < 3; ++k) os.push_back(d.dim(k));
      int64_t outer = 1, inner = 1;
      for (int k = 0; k < axis; ++k) outer *= d.dim(k);
      for (int k = axis + 1; k < 3; ++k) inner *= d.dim(k);
      Tensor y(DType::kFloat32, os);
      float* yp = y.data<float>();
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t j : ix) {
          const int64_t jj = j < 0 ? j + d.dim(axis) : j;
          for (int64_t k = 0; k < inner; ++k) *yp++ = d.data<float>()[(o * d.dim(axis) + jj) * inner + k];
        }
      return std::vector<Tensor>{y};
    };
    EXPECT_TRUE(CheckOp(OpCase("Gather").Attr("axis", IntAttr(axis)).Inputs({x, idx}).Reference(ref, Tol::Exact())
                            .Label("axis " + std::to_string(axis))));
  }
}

}  // namespace
}  // namespace dopt
