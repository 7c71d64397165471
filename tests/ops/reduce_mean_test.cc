#include <string>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(ReduceMean, MiddleAxisAndEmptyAxesModes) {
  Tensor x = Tensor::FromFloats({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  EXPECT_TRUE(CheckOp(OpCase("ReduceMean", 13).Attr("axes", IntsAttr({1})).Attr("keepdims", IntAttr(0)).Input(x)
                          .Expect(Tensor::FromFloats({2, 2}, {2, 3, 6, 7}))));
  // all axes, keepdims
  EXPECT_TRUE(CheckOp(OpCase("ReduceMean", 13).Input(x).Expect(Tensor::FromFloats({1, 1, 1}, {4.5f}))));
  Tensor empty(DType::kInt64, {0});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("ReduceMean", 18).Attr("noop_with_empty_axes", IntAttr(1)).Inputs({x, empty}), &out));
  EXPECT_EQ(out[0].shape(), (Shape{2, 2, 2}));
  EXPECT_FALSE(InferOp(OpCase("ReduceMean", 13), {Info(DType::kInt64, {2})}).ok());
}

// Reductions over the innermost dims (a contiguous scan per output, eight outputs interleaved):
// the bits of the sequential double sum per output, with row counts that leave a remainder of the
// eight, and split across threads.
TEST(ReduceMean, InnermostScansAreTheSequentialDoubleSum) {
  struct Case { Shape s; std::vector<int64_t> axes; } cases[] = {
      {{3, 37, 129}, {-1}}, {{1, 196, 1024}, {2}}, {{5, 9, 7, 11}, {2, 3}}, {{13, 3}, {1}}};
  uint32_t seed = 40;
  for (const Case& c : cases) {
    Tensor x = Random(c.s, seed++);
    int64_t count = 1;
    for (int64_t a : c.axes) count *= c.s[(size_t)(a < 0 ? a + (int64_t)c.s.size() : a)];
    const int64_t rows = x.numel() / count;
    for (const char* op : {"ReduceMean", "ReduceSum"}) {
      const bool mean = std::string(op) == "ReduceMean";
      auto ref = [&](const std::vector<Tensor>& in) {
        Shape os = c.s;
        for (int64_t a : c.axes) os[(size_t)(a < 0 ? a + (int64_t)c.s.size() : a)] = 1;
        Tensor y(DType::kFloat32, os);
        for (int64_t r = 0; r < rows; ++r) {
          double sum = 0;
          for (int64_t i = 0; i < count; ++i) sum += in[0].data<float>()[r * count + i];
          y.data<float>()[r] = mean ? (float)(sum / (double)count) : (float)sum;
        }
        return std::vector<Tensor>{y};
      };
      OpCase oc = OpCase(op, 13).Input(x).Reference(ref, Tol::Exact()).Threads({2, 3}).Label(std::string(op) + " " + ShapeToString(c.s));
      if (mean) oc.Attr("axes", IntsAttr(c.axes));
      else oc.Input(Tensor::FromInt64s({(int64_t)c.axes.size()}, c.axes));
      EXPECT_TRUE(CheckOp(oc));
    }
  }
}

}  // namespace
}  // namespace dopt
