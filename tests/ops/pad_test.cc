#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(Pad, ReflectEdgeConstantAndCrop) {
  Tensor x = Tensor::FromFloats({1, 3}, {1, 2, 3});
  Tensor pads = Tensor::FromInt64s({4}, {0, 2, 0, 2});
  EXPECT_TRUE(CheckOp(OpCase("Pad", 13).Attr("mode", StringAttr("reflect")).Inputs({x, pads})
                          .Expect(Tensor::FromFloats({1, 7}, {3, 2, 1, 2, 3, 2, 1}))));
  EXPECT_TRUE(CheckOp(OpCase("Pad", 13).Attr("mode", StringAttr("edge")).Inputs({x, pads})
                          .Expect(Tensor::FromFloats({1, 7}, {1, 1, 1, 2, 3, 3, 3}))));
  Tensor cv = Tensor::Scalar(9.f);
  Tensor crop = Tensor::FromInt64s({4}, {1, -1, 0, 1});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Pad", 13).Inputs({x, crop, cv}), &out));
  EXPECT_EQ(out[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(Values<float>(out[0]), (std::vector<float>{9, 9, 9, 2, 3, 9}));
  // Opset 2 attributes on int8 data.
  Tensor xi = x.CastTo(DType::kInt8);
  ASSERT_TRUE(CheckOp(OpCase("Pad", 2).Attr("pads", IntsAttr({0, 1, 0, 0})).Attr("value", FloatAttr(-3.f)).Input(xi), &out));
  EXPECT_EQ(out[0].ToInt64Vector(), (std::vector<int64_t>{-3, 1, 2, 3}));
  Tensor too_much = Tensor::FromInt64s({4}, {0, -2, 0, -2});
  EXPECT_FALSE(RunOp(OpCase("Pad", 13).Inputs({x, too_much})).ok());
}

// The three modes on a 4-D tensor with rows enough to be split across threads, against index
// arithmetic (reflect mirrors without repeating the edge; edge clamps).
TEST(Pad, ModesMatchIndexArithmetic) {
  Tensor x = Random({2, 3, 41, 37}, 60);
  const std::vector<int64_t> p = {0, 1, 3, 2, 1, 0, 4, 5};  // begins then ends
  for (const char* mode : {"constant", "reflect", "edge"}) {
    const std::string m = mode;
    auto ref = [&](const std::vector<Tensor>& in) {
      const Tensor& t = in[0];
      Shape os(4);
      for (int d = 0; d < 4; ++d) os[d] = t.dim(d) + p[d] + p[4 + d];
      Tensor y(DType::kFloat32, os);
      for (int64_t i = 0; i < y.numel(); ++i) {
        int64_t rem = i, src = 0;
        bool outside = false;
        int64_t idx[4];
        for (int d = 3; d >= 0; --d) {
          idx[d] = rem % os[d] - p[d];
          rem /= os[d];
        }
        for (int d = 0; d < 4; ++d) {
          int64_t k = idx[d], n = t.dim(d);
          if (k < 0 || k >= n) {
            if (m == "constant") outside = true;
            else if (m == "edge") k = k < 0 ? 0 : n - 1;
            else k = k < 0 ? -k : 2 * (n - 1) - k;
          }
          src = src * n + k;
        }
        y.data<float>()[i] = outside ? 0.5f : t.data<float>()[src];
      }
      return std::vector<Tensor>{y};
    };
    OpCase c = OpCase("Pad").Attr("mode", StringAttr(m)).Inputs({x, Tensor::FromInt64s({8}, p)});
    if (m == "constant") c.Input(Tensor::Scalar(0.5f));
    EXPECT_TRUE(CheckOp(c.Reference(ref, Tol::Exact()).Label(m)));
  }
}

}  // namespace
}  // namespace dopt
