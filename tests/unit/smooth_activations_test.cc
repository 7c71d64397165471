// Activation smoothing (smooth_quant_alpha): the rewrite keeps the float outputs, folds into a
// LayerNormalization where that is exact, inserts a Mul elsewhere, and refuses factors made
// for another graph; the factors follow the SmoothQuant formula.
#include <gtest/gtest.h>

#include "../ops/check_op.h"

#include <cmath>

#include "ops/shape_inference.h"
#include "passes/smooth_activations.h"
#include "quant/smooth_quant.h"

namespace dopt {
namespace {

using optest::MaxRelDiff;
using optest::Random;
using optest::RunGraph;

constexpr int64_t kK = 6;

// x [2, 3, 6] -> LayerNormalization (Scale, B) -> ln -> {MatMul(wq [6, 4]) -> q,
// MatMul(wk [6, 5]) -> k}; with `residual` an Add reads ln too (then the LayerNormalization
// cannot take the division). x2 [4, 6] -> Gemm(wg [3, 6], transB) -> gout: a second group.
Graph MakeGraph(bool residual, bool shared_weight = false) {
  Graph g;
  auto v = [&](const std::string& n, std::optional<Tensor> init = std::nullopt) {
    return optest::AddTestValue(g, n, std::move(init));
  };
  optest::AddTestInput(g, "x", DType::kFloat32, {2, 3, kK});
  optest::AddTestInput(g, "x2", DType::kFloat32, {4, kK});
  Tensor gamma = Random({kK}, 1);
  gamma.data<float>()[2] = 40.f;  // an outlier channel, as LayerNorm outputs in transformers have
  int scale = v("gamma", gamma), bias = v("beta", Random({kK}, 2));
  int ln = v("ln"), q = v("q"), k = v("k"), gout = v("gout");
  int wq = v("wq", Random({kK, 4}, 3));
  int wk = shared_weight ? wq : v("wk", Random({kK, 5}, 4));
  int wg = v("wg", Random({3, kK}, 5));
  g.AddNode(MakeNode("LayerNormalization", "ln", {g.inputs[0], scale, bias}, {ln}, {{"axis", IntAttr(-1)}}));
  g.AddNode(MakeNode("MatMul", "mq", {ln, wq}, {q}));
  g.AddNode(MakeNode("MatMul", "mk", {ln, wk}, {k}));
  g.AddNode(MakeNode("Gemm", "gm", {g.inputs[1], wg}, {gout}, {{"transB", IntAttr(1)}}));
  g.outputs = {q, k, gout};
  if (residual) {
    int r = v("r");
    g.AddNode(MakeNode("Add", "res", {ln, g.inputs[0]}, {r}));
    g.outputs.push_back(r);
  }
  return g;
}

std::vector<ActivationSmoothing> Factors() {
  std::vector<float> s(kK), s2(kK);
  for (int c = 0; c < kK; ++c) s[c] = 0.25f + 0.5f * c, s2[c] = 2.f / (1 + c);
  return {{"ln", s, {"mq", "mk"}}, {"x2", s2, {"gm"}}};
}

struct Result {
  std::map<std::string, Tensor> before, after;
  Graph graph;
  int folded = 0, changes = 0;
};

Result Smooth(Graph g, std::vector<ActivationSmoothing> f) {
  Result r;
  EXPECT_TRUE(PrepareGraph(g).ok());
  std::map<std::string, Tensor> feeds{{"x", Random({2, 3, kK}, 9)}, {"x2", Random({4, kK}, 10)}};
  r.before = RunGraph(g, feeds);
  PassManager pm;
  auto pass = std::make_unique<SmoothActivationsPass>(std::move(f));
  SmoothActivationsPass* p = pass.get();
  pm.Add(std::move(pass));
  std::vector<PassReport> rep;
  Status st = pm.Run(g, &rep);
  EXPECT_TRUE(st.ok()) << st.message();
  r.changes = rep.empty() ? 0 : rep[0].changes;
  r.folded = p->folded();
  r.after = RunGraph(g, feeds);
  r.graph = std::move(g);
  return r;
}

int CountOps(const Graph& g, const std::string& type) {
  int n = 0;
  for (const Node& node : g.nodes) n += node.op_type == type;
  return n;
}

TEST(SmoothActivations, FoldsIntoLayerNormAndKeepsOutputs) {
  Result r = Smooth(MakeGraph(false), Factors());
  EXPECT_EQ(r.changes, 2);
  EXPECT_EQ(r.folded, 1);                       // ln took 1/s; x2 (a graph input) got a Mul
  EXPECT_EQ(CountOps(r.graph, "Mul"), 1);
  for (const auto& kv : r.before) EXPECT_LT(MaxRelDiff(r.after[kv.first], kv.second), 1e-5) << kv.first;
  // The LayerNormalization's Scale was divided: the outlier channel 2 by s = 1.25.
  const Node* ln = FindNode(r.graph, "ln");
  ASSERT_NE(ln, nullptr);
  EXPECT_NEAR(r.graph.value(ln->inputs[1]).initializer->data<float>()[2], 40.f / 1.25f, 1e-4);
  // The Gemm (transB: weight [3, 6]) has its column c multiplied.
  const Node* gm = FindNode(r.graph, "gm");
  const Tensor wg0 = Random({3, kK}, 5);
  EXPECT_NEAR(r.graph.value(gm->inputs[1]).initializer->data<float>()[kK + 3], wg0.data<float>()[kK + 3] * (2.f / 4), 1e-6);
}

TEST(SmoothActivations, MulWhenTheActivationHasOtherReaders) {
  Result r = Smooth(MakeGraph(true), Factors());
  EXPECT_EQ(r.changes, 2);
  EXPECT_EQ(r.folded, 0);  // the residual Add reads ln too
  EXPECT_EQ(CountOps(r.graph, "Mul"), 2);
  for (const auto& kv : r.before) EXPECT_LT(MaxRelDiff(r.after[kv.first], kv.second), 1e-5) << kv.first;
  // The Add still reads the unsmoothed ln.
  const Node* add = FindNode(r.graph, "res");
  EXPECT_EQ(r.graph.value(add->inputs[0]).name, "ln");
}

TEST(SmoothActivations, SharedWeightIsCopiedNotScaledTwice) {
  Result r = Smooth(MakeGraph(false, /*shared_weight=*/true), Factors());
  for (const auto& kv : r.before) EXPECT_LT(MaxRelDiff(r.after[kv.first], kv.second), 1e-5) << kv.first;
  const Node* mq = FindNode(r.graph, "mq");
  const Node* mk = FindNode(r.graph, "mk");
  EXPECT_NE(mq->inputs[1], mk->inputs[1]);
  // The op that reads the copy is marked for the writers to regenerate (a clean node would be
  // written from its original NodeProto, still reading the shared weight).
  EXPECT_TRUE(r.graph.value(mq->inputs[1]).name.find("_smoothed") != std::string::npos ? mq->dirty : mk->dirty);
}

TEST(SmoothActivations, RefusesFactorsForAnotherGraph) {
  auto run = [](std::vector<ActivationSmoothing> f) {
    Graph g = MakeGraph(false);
    EXPECT_TRUE(PrepareGraph(g).ok());
    SmoothActivationsPass pass(std::move(f));
    return pass.Run(g).status();
  };
  auto f = Factors();
  f[0].ops = {"nope"};
  EXPECT_NE(run(f).message().find("no op 'nope'"), std::string::npos);
  f = Factors();
  f[0].scale.pop_back();
  EXPECT_NE(run(f).message().find("last dim is not 5"), std::string::npos);
  f = Factors();
  f[0].scale[1] = 0.f;
  EXPECT_NE(run(f).message().find("not positive"), std::string::npos);
  f = Factors();
  f[0].ops = {"gm"};  // reads x2, not ln
  EXPECT_NE(run(f).message().find("is not a MatMul/Gemm reading it"), std::string::npos);
}

TEST(SmoothQuant, FactorsFollowTheFormula) {
  Graph g = MakeGraph(false);
  ASSERT_TRUE(PrepareGraph(g).ok());
  QuantSelection sel;
  sel.ops.push_back({.node = "mq", .op_type = "MatMul"});
  sel.ops.push_back({.node = "mk", .op_type = "MatMul"});
  sel.ops.push_back({.node = "gm", .op_type = "Gemm"});
  auto groups = SmoothingGroups(g, sel);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].tensor, "ln");
  EXPECT_EQ(groups[0].ops, (std::vector<std::string>{"mq", "mk"}));
  EXPECT_EQ(groups[1].tensor, "x2");
  std::vector<float> a(kK);
  for (int c = 0; c < kK; ++c) a[c] = 0.5f * (c + 1);
  a[4] = 0.f;  // never active: factor 1
  const float alpha = 0.7f;
  auto f = SmoothingFactors(g, groups, {{"ln", a}}, alpha);
  ASSERT_EQ(f.size(), 1u);  // x2 was not observed
  const Tensor wq = Random({kK, 4}, 3), wk = Random({kK, 5}, 4);
  for (int c = 0; c < kK; ++c) {
    double w = 0;
    for (int j = 0; j < 4; ++j) w = std::max(w, (double)std::fabs(wq.data<float>()[c * 4 + j]));
    for (int j = 0; j < 5; ++j) w = std::max(w, (double)std::fabs(wk.data<float>()[c * 5 + j]));
    const double want = a[c] > 0 ? std::pow(a[c], alpha) / std::pow(w, 1 - alpha) : 1.0;
    EXPECT_NEAR(f[0].scale[c], want, 1e-5 * want) << c;
  }
  // An activation pair or a 3-D weight is no group.
  sel.ops[0].activation_pair = true;
  sel.ops[1].activation_pair = true;
  EXPECT_EQ(SmoothingGroups(g, sel).size(), 1u);
}

}  // namespace
}  // namespace dopt
