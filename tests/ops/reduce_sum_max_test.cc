#include <cmath>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(ReduceSum, AxesInputKeepdimsAndNoop) {
  Tensor x = Tensor::FromFloats({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  Tensor ax = Tensor::FromInt64s({2}, {0, -1});
  EXPECT_TRUE(CheckOp(OpCase("ReduceSum", 13).Attr("keepdims", IntAttr(0)).Inputs({x, ax})
                          .Expect(Tensor::FromFloats({2}, {1 + 2 + 5 + 6, 3 + 4 + 7 + 8}))));
  // all axes, keepdims
  EXPECT_TRUE(CheckOp(OpCase("ReduceSum", 13).Input(x).Expect(Tensor::FromFloats({1, 1, 1}, {36}))));
  Tensor empty(DType::kInt64, {0});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("ReduceSum", 13).Attr("noop_with_empty_axes", IntAttr(1)).Inputs({x, empty}), &out));
  EXPECT_EQ(Values<float>(out[0]), Values<float>(x));
  EXPECT_FALSE(InferOp(OpCase("ReduceSum", 13), {Info(DType::kBool, {2})}).ok());
  EXPECT_FALSE(InferOp(OpCase("ReduceMean", 13), {Info(DType::kInt64, {2})}).ok());
}

// Sum, Max, Min and Prod also reduce int64 and int32 (RT-DETR sums an int64 mask), exactly,
// keeping the input's type.
TEST(ReduceSum, IntegerInputsKeepTheirType) {
  Tensor x = Tensor::FromInt64s({2, 3}, {4, -7, 3000000000LL, 2, 5, -1});
  Tensor ax = Tensor::FromInt64s({1}, {1});
  struct Case {
    const char* op;
    std::vector<int64_t> want;
  };
  for (const Case& c : {Case{"ReduceSum", {4 - 7 + 3000000000LL, 6}}, Case{"ReduceMax", {3000000000LL, 5}},
                        Case{"ReduceMin", {-7, -1}}, Case{"ReduceProd", {-84000000000LL, -10}}}) {
    std::vector<Tensor> out;
    ASSERT_TRUE(CheckOp(OpCase(c.op, 18).Attr("keepdims", IntAttr(0)).Inputs({x, ax}), &out)) << c.op;
    ASSERT_EQ(out[0].dtype(), DType::kInt64) << c.op;
    EXPECT_EQ(Values<int64_t>(out[0]), c.want) << c.op;
    // The same values as int32 (the int64 one does not fit) give int32 results.
    Tensor x32 = Tensor::FromInt64s({2, 3}, {4, -7, 3, 2, 5, -1}).CastTo(DType::kInt32);
    ASSERT_TRUE(CheckOp(OpCase(c.op, 18).Attr("keepdims", IntAttr(0)).Inputs({x32, ax}), &out)) << c.op;
    ASSERT_EQ(out[0].dtype(), DType::kInt32) << c.op;
  }
  // An empty reduction starts at the type's own extreme: int32's, not int64's.
  Tensor empty32(DType::kInt32, {2, 0});
  std::vector<Tensor> e;
  ASSERT_TRUE(CheckOp(OpCase("ReduceMax", 18).Attr("keepdims", IntAttr(0)).Inputs({empty32, ax}), &e));
  EXPECT_EQ(Values<int32_t>(e[0]), (std::vector<int32_t>{INT32_MIN, INT32_MIN}));
  ASSERT_TRUE(CheckOp(OpCase("ReduceMin", 18).Attr("keepdims", IntAttr(0)).Inputs({empty32, ax}), &e));
  EXPECT_EQ(Values<int32_t>(e[0]), (std::vector<int32_t>{INT32_MAX, INT32_MAX}));
  std::vector<Tensor> out;
  Tensor x32 = Tensor::FromInt64s({2, 3}, {4, -7, 3, 2, 5, -1}).CastTo(DType::kInt32);
  ASSERT_TRUE(CheckOp(OpCase("ReduceSum", 18).Inputs({x32, ax}), &out));
  EXPECT_EQ(Values<int32_t>(out[0]), (std::vector<int32_t>{0, 6}));
}

TEST(ReduceMax, MiddleAxisNegativesAndNan) {
  Tensor x = Tensor::FromFloats({2, 3}, {-5, -2, -9, 4, NAN, 1});
  Tensor ax = Tensor::FromInt64s({1}, {1});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("ReduceMax", 18).Attr("keepdims", IntAttr(1)).Inputs({x, ax}), &out));
  EXPECT_EQ(out[0].shape(), (Shape{2, 1}));
  EXPECT_EQ(out[0].data<float>()[0], -2.f);
  EXPECT_TRUE(std::isnan(out[0].data<float>()[1]));
  Tensor bad = Tensor::FromInt64s({1}, {2});
  EXPECT_FALSE(RunOp(OpCase("ReduceMax", 18).Inputs({x, bad})).ok());
}

// Sum, mean and max over single axes, pairs of axes and all axes of a 4-D tensor, against double
// loops (sums within 1e-6 per reduced element, means within 1e-6, max exactly).
TEST(ReduceSum, AxesSweepMatchesLoops) {
  Tensor x = Random({3, 5, 7, 211}, 80);
  const std::vector<std::vector<int64_t>> axes_list = {{0}, {1}, {2}, {3}, {-1}, {0, 2}, {1, 3}, {0, 1, 2, 3}};
  for (const char* op : {"ReduceSum", "ReduceMean", "ReduceMax"})
    for (const auto& axes : axes_list)
      for (int keep = 0; keep < 2; ++keep) {
        const std::string name = op;
        auto ref = [&](const std::vector<Tensor>& in) {
          const Tensor& t = in[0];
          bool red[4] = {false, false, false, false};
          for (int64_t a : axes) red[a < 0 ? a + 4 : a] = true;
          Shape os, ks;
          for (int d = 0; d < 4; ++d) {
            ks.push_back(red[d] ? 1 : t.dim(d));
            if (!red[d] || keep) os.push_back(ks.back());
          }
          std::vector<double> acc(NumElements(ks), name == "ReduceMax" ? -INFINITY : 0.0);
          int64_t count = t.numel() / NumElements(ks);
          for (int64_t i = 0; i < t.numel(); ++i) {
            int64_t rem = i, o = 0, idx[4];
            for (int d = 3; d >= 0; --d) {
              idx[d] = rem % t.dim(d);
              rem /= t.dim(d);
            }
            for (int d = 0; d < 4; ++d) o = o * ks[d] + (red[d] ? 0 : idx[d]);
            const double v = t.data<float>()[i];
            acc[o] = name == "ReduceMax" ? std::max(acc[o], v) : acc[o] + v;
          }
          Tensor y(DType::kFloat32, os);
          for (size_t k = 0; k < acc.size(); ++k) y.data<float>()[k] = (float)(name == "ReduceMean" ? acc[k] / count : acc[k]);
          return std::vector<Tensor>{y};
        };
        OpCase c = OpCase(op).Attr("keepdims", IntAttr(keep)).Input(x).Input(Tensor::FromInt64s({(int64_t)axes.size()}, axes));
        int64_t count = 1;
        for (int64_t a : axes) count *= x.dim((int)(a < 0 ? a + 4 : a));
        const Tol tol = name == "ReduceMax" ? Tol::Exact() : name == "ReduceSum" ? Tol::Abs(1e-6 * (double)count) : Tol::Abs(1e-6);
        EXPECT_TRUE(CheckOp(c.Reference(ref, tol).Label(ShapeToString(axes) + " keepdims=" + std::to_string(keep))));
      }
}

}  // namespace
}  // namespace dopt
