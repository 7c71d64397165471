// ReduceMin, ReduceProd, ReduceL1, ReduceL2, ReduceLogSum, ReduceLogSumExp, ReduceSumSquare:
// sweeps over axes and keepdims against double loops, the opset-13 axes attribute, noop and
// empty-set values.
#include <cmath>
#include <limits>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

// Reduces t over `axes` with f(values) -> double; out shape per keepdims.
Tensor LoopReduce(const Tensor& t, const std::vector<int64_t>& axes, bool keep,
                  const std::function<double(const std::vector<double>&)>& f) {
  const int rank = t.rank();
  std::vector<bool> red(rank, axes.empty());
  for (int64_t a : axes) red[a < 0 ? a + rank : a] = true;
  Shape os, ks;
  for (int d = 0; d < rank; ++d) {
    ks.push_back(red[d] ? 1 : t.dim(d));
    if (!red[d] || keep) os.push_back(ks.back());
  }
  std::vector<std::vector<double>> groups(NumElements(ks));
  for (int64_t i = 0; i < t.numel(); ++i) {
    int64_t rem = i, o = 0;
    std::vector<int64_t> idx(rank);
    for (int d = rank - 1; d >= 0; --d) {
      idx[d] = rem % t.dim(d);
      rem /= t.dim(d);
    }
    for (int d = 0; d < rank; ++d) o = o * ks[d] + (red[d] ? 0 : idx[d]);
    groups[o].push_back(t.data<float>()[i]);
  }
  Tensor y(DType::kFloat32, os);
  for (size_t k = 0; k < groups.size(); ++k) y.data<float>()[k] = (float)f(groups[k]);
  return y;
}

double Fold(const std::string& op, const std::vector<double>& v) {
  double acc = op == "ReduceMin" ? INFINITY : op == "ReduceProd" ? 1.0 : 0.0;
  for (double x : v) {
    if (op == "ReduceMin") acc = std::min(acc, x);
    else if (op == "ReduceProd") acc *= x;
    else if (op == "ReduceL1") acc += std::fabs(x);
    else if (op == "ReduceL2" || op == "ReduceSumSquare") acc += x * x;
    else if (op == "ReduceLogSum") acc += x;
    else if (op == "ReduceLogSumExp") acc += std::exp(x);
  }
  if (op == "ReduceL2") return std::sqrt(acc);
  if (op == "ReduceLogSum" || op == "ReduceLogSumExp") return std::log(acc);
  return acc;
}

const char* kOps[] = {"ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"};

TEST(ReduceFamily, AxesSweepMatchesLoops) {
  const std::vector<std::vector<int64_t>> axes_list = {{0}, {1}, {2}, {3}, {-1}, {0, 2}, {1, 3}, {0, 1, 2, 3}};
  for (const char* op : kOps) {
    const std::string name = op;
    // Positive inputs for LogSum (log of a sum); values near 1 for Prod so products stay finite.
    Tensor x = Random({3, 4, 5, 37}, 7);
    for (int64_t i = 0; i < x.numel(); ++i) {
      float& v = x.data<float>()[i];
      if (name == "ReduceLogSum") v = std::fabs(v) + 0.1f;
      if (name == "ReduceProd") v = 1.0f + 0.01f * v;
    }
    for (const auto& axes : axes_list)
      for (int keep = 0; keep < 2; ++keep) {
        auto ref = [&](const std::vector<Tensor>& in) {
          return std::vector<Tensor>{LoopReduce(in[0], axes, keep, [&](const std::vector<double>& v) { return Fold(name, v); })};
        };
        OpCase c = OpCase(op).Attr("keepdims", IntAttr(keep)).Input(x).Input(Tensor::FromInt64s({(int64_t)axes.size()}, axes));
        const Tol tol = name == "ReduceMin" ? Tol::Exact() : Tol::Near(1e-5);
        EXPECT_TRUE(CheckOp(c.Reference(ref, tol).Label(ShapeToString(axes) + " keepdims=" + std::to_string(keep))));
      }
  }
}

TEST(ReduceFamily, Opset13AxesAttributeAndDefaultAllAxes) {
  Tensor x = Tensor::FromFloats({2, 3}, {1, -2, 3, -4, 5, -6});
  for (const char* op : kOps) {
    const std::string name = op;
    Tensor xin = x;
    if (name == "ReduceLogSum") xin = Tensor::FromFloats({2, 3}, {1, 2, 3, 4, 5, 6});
    auto ref_axis = [&](const std::vector<Tensor>& in) {
      return std::vector<Tensor>{LoopReduce(in[0], {1}, false, [&](const std::vector<double>& v) { return Fold(name, v); })};
    };
    EXPECT_TRUE(CheckOp(OpCase(op, 13).Attr("axes", IntsAttr({-1})).Attr("keepdims", IntAttr(0)).Input(xin)
                            .Reference(ref_axis, Tol::Near(1e-6))));
    auto ref_all = [&](const std::vector<Tensor>& in) {
      return std::vector<Tensor>{LoopReduce(in[0], {}, true, [&](const std::vector<double>& v) { return Fold(name, v); })};
    };
    EXPECT_TRUE(CheckOp(OpCase(op, 13).Input(xin).Reference(ref_all, Tol::Near(1e-6))));
    EXPECT_TRUE(CheckOp(OpCase(op).Input(xin).Reference(ref_all, Tol::Near(1e-6))));
    // noop_with_empty_axes=1 and no axes: the input unchanged.
    std::vector<Tensor> out;
    ASSERT_TRUE(CheckOp(OpCase(op).Attr("noop_with_empty_axes", IntAttr(1)).Input(xin), &out)) << op;
    EXPECT_EQ(Values<float>(out[0]), Values<float>(xin)) << op;
    EXPECT_FALSE(RunOp(OpCase(op).Inputs({xin, Tensor::FromInt64s({1}, {2})})).ok()) << op;
    EXPECT_FALSE(InferOp(OpCase(op), {Info(DType::kBool, {2})}).ok()) << op;
    // Integers: ReduceMin and ReduceProd (reduce_sum_max_test.cc), float-only for the others.
    EXPECT_EQ(InferOp(OpCase(op), {Info(DType::kInt64, {2})}).ok(), name == "ReduceMin" || name == "ReduceProd") << op;
  }
}

TEST(ReduceFamily, EmptySetValuesAndLargeLogSumExp) {
  Tensor empty(DType::kFloat32, {2, 0});
  Tensor ax = Tensor::FromInt64s({1}, {1});
  const float inf = std::numeric_limits<float>::infinity();
  const std::pair<const char*, float> want[] = {{"ReduceMin", inf}, {"ReduceProd", 1}, {"ReduceL1", 0}, {"ReduceL2", 0},
                                                {"ReduceLogSum", -inf}, {"ReduceLogSumExp", -inf}, {"ReduceSumSquare", 0}};
  for (const auto& [op, v] : want)
    EXPECT_TRUE(CheckOp(OpCase(op).Attr("keepdims", IntAttr(0)).Inputs({empty, ax}).Expect(Tensor::FromFloats({2}, {v, v}))));
  // exp(1000) overflows double; the running max keeps the result finite.
  Tensor big = Tensor::FromFloats({1, 3}, {1000, 1000, -inf});
  EXPECT_TRUE(CheckOp(OpCase("ReduceLogSumExp").Inputs({big, ax}).Expect(Tensor::FromFloats({1, 1}, {1000 + (float)std::log(2.0)}), Tol::Abs(1e-3))));
  Tensor nan = Tensor::FromFloats({1, 2}, {NAN, 3});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("ReduceMin").Inputs({nan, ax}), &out));
  EXPECT_TRUE(std::isnan(out[0].data<float>()[0]));
}

}  // namespace
}  // namespace dopt
