// LogSoftmax and Hardmax: Softmax's axis semantics (along `axis` from opset 13, on the 2-D
// coercion at `axis` before) and its opset 13 upgrade (ops/softmax_family.h).
#include <cmath>
#include <limits>

#include "check_op.h"
#include "ops/shape_inference.h"
#include "passes/upgrade_opset.h"

namespace dopt {
namespace {
using namespace optest;

// x viewed as [outer, n, inner]: opset >= 13 reduces over dim `axis`; older opsets over all
// dims from `axis` on (inner = 1).
struct Lanes {
  int64_t outer = 1, n = 1, inner = 1;
};
Lanes LanesOf(const Shape& s, int axis, bool old) {
  Lanes l;
  for (int i = 0; i < (int)s.size(); ++i) {
    if (i < axis) l.outer *= s[i];
    else if (i == axis || old) l.n *= s[i];
    else l.inner *= s[i];
  }
  return l;
}

RefFn LogSoftmaxRef(int axis, bool old) {
  return [=](const std::vector<Tensor>& in) {
    const Tensor& x = in[0];
    Tensor y(DType::kFloat32, x.shape());
    Lanes l = LanesOf(x.shape(), axis < 0 ? axis + (int)x.shape().size() : axis, old);
    for (int64_t o = 0; o < l.outer; ++o)
      for (int64_t i = 0; i < l.inner; ++i) {
        const float* xs = x.data<float>() + o * l.n * l.inner + i;
        double mx = -INFINITY, sum = 0;
        for (int64_t k = 0; k < l.n; ++k) mx = std::max(mx, (double)xs[k * l.inner]);
        for (int64_t k = 0; k < l.n; ++k) sum += std::exp(xs[k * l.inner] - mx);
        for (int64_t k = 0; k < l.n; ++k)
          y.data<float>()[o * l.n * l.inner + i + k * l.inner] = (float)(xs[k * l.inner] - mx - std::log(sum));
      }
    return std::vector<Tensor>{y};
  };
}

RefFn HardmaxRef(int axis, bool old) {
  return [=](const std::vector<Tensor>& in) {
    const Tensor& x = in[0];
    Tensor y(DType::kFloat32, x.shape());
    Lanes l = LanesOf(x.shape(), axis < 0 ? axis + (int)x.shape().size() : axis, old);
    for (int64_t o = 0; o < l.outer; ++o)
      for (int64_t i = 0; i < l.inner; ++i) {
        const int64_t base = o * l.n * l.inner + i;
        int64_t best = 0;
        for (int64_t k = 1; k < l.n; ++k)
          if (x.data<float>()[base + k * l.inner] > x.data<float>()[base + best * l.inner]) best = k;
        y.data<float>()[base + best * l.inner] = 1.f;
      }
    return std::vector<Tensor>{y};
  };
}

TEST(LogSoftmaxHardmax, EveryAxisAndOpsetMatchesReference) {
  Tensor x = Random({3, 4, 5, 6}, 31, -4.f, 4.f);
  for (int opset : {7, 11, 13, kLatestOpset}) {
    const bool old = opset < 13;
    for (int axis = old && opset < 11 ? 0 : -4; axis < 4; ++axis) {
      const std::string label = "axis " + std::to_string(axis);
      EXPECT_TRUE(CheckOp(OpCase("LogSoftmax", opset).Attr("axis", IntAttr(axis)).Input(x).Label(label)
                              .Reference(LogSoftmaxRef(axis, old), Tol::Near(1e-6))));
      EXPECT_TRUE(CheckOp(OpCase("Hardmax", opset).Attr("axis", IntAttr(axis)).Input(x).Label(label)
                              .Reference(HardmaxRef(axis, old), Tol::Exact())));
    }
    // Default axis: 1 before 13 (coerced), -1 from 13.
    EXPECT_TRUE(CheckOp(OpCase("LogSoftmax", opset).Input(x).Reference(LogSoftmaxRef(old ? 1 : -1, old), Tol::Near(1e-6))));
    EXPECT_TRUE(CheckOp(OpCase("Hardmax", opset).Input(x).Reference(HardmaxRef(old ? 1 : -1, old), Tol::Exact())));
  }
}

TEST(LogSoftmaxHardmax, LargeValuesTiesAndThreads) {
  // Large values: no overflow; ties: the first maximum wins.
  Tensor x = Tensor::FromFloats({2, 3}, {1000.f, 999.f, 998.f, 5.f, 7.f, 7.f});
  EXPECT_TRUE(CheckOp(OpCase("LogSoftmax").Input(x).Reference(LogSoftmaxRef(-1, false), Tol::Near(1e-6))));
  EXPECT_TRUE(CheckOp(OpCase("Hardmax").Input(x).Expect(Tensor::FromFloats({2, 3}, {1, 0, 0, 0, 1, 0}))));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // A NaN counts as the maximum, as numpy's argmax in ONNX's reference.
  EXPECT_TRUE(CheckOp(OpCase("Hardmax").Input(Tensor::FromFloats({1, 3}, {1.f, nan, 3.f}))
                          .Expect(Tensor::FromFloats({1, 3}, {0, 1, 0}))));
  // Many lanes, split across threads.
  Tensor big = Random({64, 37, 33}, 32, -30.f, 30.f);
  EXPECT_TRUE(CheckOp(OpCase("LogSoftmax").Attr("axis", IntAttr(1)).Input(big).Threads({2, 3, 4})
                          .Reference(LogSoftmaxRef(1, false), Tol::Near(1e-5))));
  EXPECT_TRUE(CheckOp(OpCase("Hardmax").Attr("axis", IntAttr(1)).Input(big).Threads({2, 3, 4})
                          .Reference(HardmaxRef(1, false), Tol::Exact())));
}

TEST(LogSoftmaxHardmax, RejectsBadAxisAndIntInput) {
  for (const char* op : {"LogSoftmax", "Hardmax"}) {
    EXPECT_FALSE(InferOp(OpCase(op).Attr("axis", IntAttr(3)), {Info(DType::kFloat32, {2, 3, 4})}).ok()) << op;
    EXPECT_FALSE(InferOp(OpCase(op).Attr("axis", IntAttr(-4)), {Info(DType::kFloat32, {2, 3, 4})}).ok()) << op;
    EXPECT_FALSE(InferOp(OpCase(op), {Info(DType::kInt32, {2, 3})}).ok()) << op;
    EXPECT_TRUE(InferOp(OpCase(op, 11).Attr("axis", IntAttr(3)), {Info(DType::kFloat32, {2, 3, 4})}).ok()) << op;
  }
}

// One node of `op` at `opset` on x; returns the graph, prepared.
Graph OneNodeGraph(const std::string& op, int opset, const Shape& shape, AttrList attrs) {
  Graph g;
  g.info.format = "onnx";
  g.info.ir_version = 3;
  g.info.opsets = {{"", opset}};
  int x = AddTestInput(g, "x", DType::kFloat32, shape);
  int y = AddTestValue(g, "y");
  g.AddNode(MakeNode(op, "n", {x}, {y}, std::move(attrs), opset));
  g.outputs.push_back(y);
  Status st = PrepareGraph(g);
  EXPECT_TRUE(st.ok()) << st.message();
  return g;
}

int CountOps(const Graph& g, const std::string& type) {
  int c = 0;
  for (const Node& n : g.nodes) c += n.op_type == type;
  return c;
}

TEST(LogSoftmaxHardmax, UpgradeTo13KeepsTheResults) {
  struct Case { Shape shape; AttrList attrs; int nodes_after; } cases[] = {
      {{2, 3, 4}, {{"axis", IntAttr(1)}}, 4},   // inner axis: Flatten -> op -> Reshape (+ Shape)
      {{2, 3, 4}, {}, 4},                       // default axis 1, likewise
      {{2, 3, 4}, {{"axis", IntAttr(-1)}}, 1},  // last axis: same node
      {{2, 5, 1, 1}, {}, 1},                    // trailing ones: same node, explicit axis
  };
  for (const char* op : {"LogSoftmax", "Hardmax"}) {
    for (const Case& c : cases) {
      Graph g = OneNodeGraph(op, 11, c.shape, c.attrs);
      std::map<std::string, Tensor> feeds = {{"x", Random(c.shape, 33, -3.f, 3.f)}};
      auto before = RunGraph(g, feeds);
      Status st = UpgradeOpset(g, 13);
      ASSERT_TRUE(st.ok()) << st.message();
      EXPECT_EQ((int)g.nodes.size(), c.nodes_after) << op;
      EXPECT_EQ(CountOps(g, op), 1);
      for (const Node& n : g.nodes) {
        EXPECT_EQ(n.opset_version, 13);
        if (n.op_type == op) {
          EXPECT_TRUE(n.HasAttr("axis"));
        }
      }
      auto after = RunGraph(g, feeds);
      EXPECT_TRUE(TensorsNear(after.at("y"), before.at("y"), Tol::Near(1e-6), op));
    }
  }
}

}  // namespace
}  // namespace dopt
