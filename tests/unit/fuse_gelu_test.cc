// FuseGeluPass through the executor: the five-op exact GELU of exporters and the tanh GELU, in each spelling, runs
// as one Gelu node in optimised (non-exact) runs with the chain's values; a chain whose
// intermediate is read elsewhere, or observed, stays as it is; exact (observing) runs keep it.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "executor/executor.h"
#include "graph_test_util.h"
#include "ir/graph_edit.h"
#include "ops/shape_inference.h"

namespace dopt {
namespace {

Tensor Rand(const Shape& s, uint32_t seed) { return testutil::RandomTensor(s, seed, -4.f, 4.f); }

struct Spelling {
  bool mul_inv_sqrt2;  // x * (1/sqrt 2) instead of x / sqrt 2
  bool half_first;     // (x * 0.5) * (erf + 1) instead of (x * (erf + 1)) * 0.5
  bool swapped;        // constants first in Add / Mul
  bool leak;           // the Erf output is also a graph output: no fusion
  bool tanh = false;   // the tanh GELU: Tanh(sqrt(2/pi) * (x + 0.044715 * Pow(x, 3))) for the Erf
};

Graph MakeGelu(const Spelling& sp) {
  Graph g;
  Value xv;
  xv.name = "x";
  xv.dtype = DType::kFloat32;
  xv.rank_known = true;
  xv.shape = {2, 3, 37};
  const int x = g.AddValue(std::move(xv));
  g.inputs = {x};
  auto c = [&](const std::string& n, float v) { return AddInitializer(g, n, Tensor::Scalar(v)); };
  auto node = [&](const std::string& type, int a, int b, const std::string& out) {
    const int o = AddIntermediate(g, out);
    std::vector<int> ins = sp.swapped && b >= 0 ? std::vector<int>{b, a} : std::vector<int>{a, b};
    if (b < 0) ins = {a};
    g.AddNode(MakeNode(type, type + "_" + out, ins, {o}, {}, 17));
    return o;
  };
  int e;
  if (sp.tanh) {
    const int p = AddIntermediate(g, "p");
    g.AddNode(MakeNode("Pow", "Pow_p", {x, c("three", 3.f)}, {p}, {}, 17));
    const int m = node("Mul", p, c("k1", 0.044715f), "m1");
    const int s = sp.mul_inv_sqrt2 ? node("Add", m, x, "s") : node("Add", x, m, "s");
    const int d = node("Mul", s, c("k2", (float)std::sqrt(2.0 / M_PI)), "d");
    e = node("Tanh", d, -1, "e");
  } else {
    const int d = sp.mul_inv_sqrt2 ? node("Mul", x, c("r", (float)std::sqrt(0.5)), "d") : node("Div", x, -1, "d");
    if (!sp.mul_inv_sqrt2) g.nodes.back().inputs = {x, c("s2", (float)std::sqrt(2.0))};
    e = node("Erf", d, -1, "e");
  }
  const int a = node("Add", e, c("one", 1.f), "a");
  int y;
  if (sp.half_first) {
    const int h = node("Mul", x, c("half", 0.5f), "h");
    y = node("Mul", h, a, "y");
  } else {
    const int m = node("Mul", x, a, "m");
    y = node("Mul", m, c("half", 0.5f), "y");
  }
  g.outputs = {y};
  if (sp.leak) g.outputs.push_back(e);
  EXPECT_TRUE(PrepareGraph(g).ok());
  return g;
}

std::pair<Tensor, size_t> RunGraph(const Graph& g, ExecutorOptions o) {
  auto ex = Executor::Create(g, o);
  EXPECT_TRUE(ex.ok()) << ex.status().message();
  std::map<std::string, Tensor> outs;
  EXPECT_TRUE((*ex)->Run({{"x", Rand({2, 3, 37}, 5)}}, &outs).ok());
  size_t gelus = 0;
  for (const Node& n : (*ex)->graph().nodes) gelus += n.op_type == "Gelu";
  return {outs.at("y"), gelus};
}

TEST(FuseGelu, EverySpellingBecomesOneGeluWithTheChainsValues) {
  for (int bits = 0; bits < 32; ++bits) {
    const Spelling sp{(bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0, (bits & 8) != 0, (bits & 16) != 0};
    const std::string what = "spelling " + std::to_string(bits);
    Graph g = MakeGelu(sp);
    ExecutorOptions plain, optimized;
    optimized.optimize = true;
    auto [want, g0] = RunGraph(g, plain);
    auto [got, g1] = RunGraph(g, optimized);
    EXPECT_EQ(g0, 0u) << what;
    EXPECT_EQ(g1, sp.leak ? 0u : 1u) << what;
    if (sp.tanh && !sp.leak) {  // the tanh form, and not the erf one (they differ by up to 1e-3)
      double worst = 0;
      for (int64_t i = 0; i < got.numel(); ++i) {
        const double v = Rand({2, 3, 37}, 5).data<float>()[i];
        const double erf_gelu = 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
        worst = std::max(worst, std::fabs(got.data<float>()[i] - erf_gelu));
      }
      EXPECT_GT(worst, 1e-4) << what;
    }
    ASSERT_EQ(got.numel(), want.numel());
    for (int64_t i = 0; i < got.numel(); ++i) {
      const float a = want.data<float>()[i], b = got.data<float>()[i];
      ASSERT_NEAR(a, b, 2e-6f * (1.f + std::fabs(a))) << what << " i=" << i;
    }
    // Observing runs (calibration) keep every op of the chain and its bits.
    auto [obs, g2] = RunGraph(g, ExecutorOptions::Observing(1, {}));
    EXPECT_EQ(g2, 0u) << what;
    for (int64_t i = 0; i < obs.numel(); ++i) ASSERT_EQ(obs.data<float>()[i], want.data<float>()[i]) << what;
  }
}

// The tanh form's exponent must be exactly 3 (Pow of a negative x to 3.0002 is NaN).
TEST(FuseGelu, TanhFormNeedsExactlyCube) {
  Graph g = MakeGelu({false, false, false, false, true});
  for (auto& v : g.values)
    if (v.name == "three" && v.initializer) v.initializer = Tensor::Scalar(3.0002f);
  ExecutorOptions o;
  o.optimize = true;
  EXPECT_EQ(RunGraph(g, o).second, 0u);
}

TEST(FuseGelu, OtherConstantsAreNotGelu) {
  Graph g = MakeGelu({false, false, false, false});
  for (auto& v : g.values)
    if (v.name == "half" && v.initializer) v.initializer = Tensor::Scalar(0.25f);
  ExecutorOptions o;
  o.optimize = true;
  EXPECT_EQ(RunGraph(g, o).second, 0u);
}

// A one-element constant of a higher rank than x broadcasts the chain's result to more dims
// than Gelu(x) has: not fused, and the output keeps the chain's shape.
TEST(FuseGelu, ConstantsThatGrowTheShapeAreNotFused) {
  Graph g = MakeGelu({false, false, false, false});
  for (auto& v : g.values)
    if (v.name == "half" && v.initializer) v.initializer = Tensor::FromFloats({1, 1, 1, 1}, {0.5f});
  ASSERT_TRUE(PrepareGraph(g).ok());
  ExecutorOptions o;
  o.optimize = true;
  auto [y, gelus] = RunGraph(g, o);
  EXPECT_EQ(gelus, 0u);
  EXPECT_EQ(y.shape(), (Shape{1, 2, 3, 37}));
}

}  // namespace
}  // namespace dopt
