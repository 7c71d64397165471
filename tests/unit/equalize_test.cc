// Cross-layer equalization: float outputs unchanged, ranges balanced, ReLU6 left alone.
#include <gtest/gtest.h>

#include "../ops/check_op.h"

#include <cmath>

#include "ops/shape_inference.h"
#include "passes/equalize.h"
#include "quant/prepare.h"

namespace dopt {
namespace {

using optest::Random;
using optest::MaxRelDiff;
using optest::RunGraph;

// Per output channel max |w| of a Conv weight [Cout, ...].
std::vector<double> OutRanges(const Tensor& w) {
  auto v = w.ToDoubleVector();
  const int64_t per = w.numel() / w.dim(0);
  std::vector<double> r(w.dim(0), 0.0);
  for (int64_t c = 0; c < w.dim(0); ++c)
    for (int64_t i = 0; i < per; ++i) r[c] = std::max(r[c], std::fabs(v[c * per + i]));
  return r;
}

// Per input channel max |w| of a Conv weight [Cout, Cin, ...].
std::vector<double> InRanges(const Tensor& w) {
  auto v = w.ToDoubleVector();
  const int64_t cout = w.dim(0), cin = w.dim(1), per = w.numel() / (cout * cin);
  std::vector<double> r(cin, 0.0);
  for (int64_t o = 0; o < cout; ++o)
    for (int64_t i = 0; i < cin; ++i)
      for (int64_t e = 0; e < per; ++e) r[i] = std::max(r[i], std::fabs(v[(o * cin + i) * per + e]));
  return r;
}

// Random weights whose output channel c is multiplied by mult[c].
Tensor Weights(const Shape& shape, uint32_t seed, const std::vector<float>& mult) {
  Tensor t = Random(shape, seed);
  const int64_t per = t.numel() / shape[0];
  for (int64_t c = 0; c < shape[0]; ++c)
    for (int64_t i = 0; i < per; ++i) t.data<float>()[c * per + i] *= mult[c % mult.size()];
  return t;
}

const Tensor& Init(const Graph& g, const Node& n, int slot) { return *g.value(n.inputs[slot]).initializer; }

const Node& NodeNamed(const Graph& g, const std::string& name) {
  for (const Node& n : g.nodes)
    if (n.name == name) return n;
  ADD_FAILURE() << "no node " << name;
  return g.nodes[0];
}

// x -> conv1 (4 ch, outlier channels) -> Relu -> {conv2a 1x1, conv2b 3x3} ;
// conv2a -> Relu -> MaxPool (padded) -> conv6 ;
// conv2b -> depthwise conv3 (group 5, bias) -> conv4 ; conv4 -> Clip(0, 6) -> conv5 (left alone).
Graph MakeGraph() {
  Graph g;
  auto v = [&](const std::string& n, std::optional<Tensor> init = std::nullopt) {
    return optest::AddTestValue(g, n, std::move(init));
  };
  optest::AddTestInput(g, "x", DType::kFloat32, {1, 3, 6, 6});
  int w1 = v("w1", Weights({4, 3, 3, 3}, 1, {100.f, 0.01f, 1.f, 5.f}));
  int b1 = v("b1", Tensor::FromFloats({4}, {10.f, 0.01f, 0.5f, -1.f}));
  int c1 = v("c1"), r1 = v("r1");
  int w2a = v("w2a", Random({3, 4, 1, 1}, 2)), w2b = v("w2b", Random({5, 4, 3, 3}, 3));
  int b2b = v("b2b", Tensor::FromFloats({5}, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f}));
  int ya = v("ya"), yb = v("yb");
  int w3 = v("w3", Weights({5, 1, 3, 3}, 4, {0.02f, 1.f, 30.f, 1.f, 2.f}));
  int b3 = v("b3", Tensor::FromFloats({5}, {1, 2, 3, 4, 5}));
  int y3 = v("y3");
  int w4 = v("w4", Weights({2, 5, 1, 1}, 5, {1.f, 3.f})), y4 = v("y4");
  int lo = v("lo", Tensor::FromFloats({}, {0.f})), hi = v("hi", Tensor::FromFloats({}, {6.f}));
  int r4 = v("r4");
  int w5 = v("w5", Random({2, 2, 1, 1}, 6)), y5 = v("y5");
  int ra = v("ra"), pa = v("pa"), w6 = v("w6", Random({2, 3, 1, 1}, 7)), y6 = v("y6");
  g.AddNode(MakeNode("Conv", "conv1", {g.inputs[0], w1, b1}, {c1}, {{"pads", IntsAttr({1, 1, 1, 1})}}));
  g.AddNode(MakeNode("Relu", "relu1", {c1}, {r1}));
  g.AddNode(MakeNode("Conv", "conv2a", {r1, w2a}, {ya}));
  g.AddNode(MakeNode("Conv", "conv2b", {r1, w2b, b2b}, {yb}, {{"pads", IntsAttr({1, 1, 1, 1})}}));
  g.AddNode(MakeNode("Conv", "conv3", {yb, w3, b3}, {y3}, {{"group", IntAttr(5)}, {"pads", IntsAttr({1, 1, 1, 1})}}));
  g.AddNode(MakeNode("Conv", "conv4", {y3, w4}, {y4}));
  g.AddNode(MakeNode("Clip", "relu6", {y4, lo, hi}, {r4}));
  g.AddNode(MakeNode("Conv", "conv5", {r4, w5}, {y5}));
  g.AddNode(MakeNode("Relu", "relu2a", {ya}, {ra}));
  g.AddNode(MakeNode("MaxPool", "pool2a", {ra}, {pa}, {{"kernel_shape", IntsAttr({2, 2})}, {"pads", IntsAttr({1, 1, 1, 1})}}));
  g.AddNode(MakeNode("Conv", "conv6", {pa, w6}, {y6}));
  g.outputs = {y6, y5};
  return g;
}

TEST(Equalize, OutputsUnchangedAndRangesBalanced) {
  Graph g = MakeGraph();
  ASSERT_TRUE(PrepareGraph(g).ok());
  std::map<std::string, Tensor> feeds{{"x", Random({1, 3, 6, 6}, 9)}};
  auto before = RunGraph(g, feeds);
  const Tensor w4_before = Init(g, NodeNamed(g, "conv4"), 1).Clone();
  const Tensor w5_before = Init(g, NodeNamed(g, "conv5"), 1).Clone();

  PassManager pm;
  auto pass = std::make_unique<EqualizePass>();
  EqualizePass* eq = pass.get();
  pm.Add(std::move(pass));
  std::vector<PassReport> rep;
  Status st = pm.Run(g, &rep);
  ASSERT_TRUE(st.ok()) << st.message();
  // conv1 -> {conv2a, conv2b}, conv2a -> Relu -> MaxPool -> conv6, conv2b -> conv3 (depthwise),
  // conv3 -> conv4; not conv4 -> Clip(0, 6).
  EXPECT_EQ(rep[0].changes, 4);
  EXPECT_GE(eq->channels(), 8);
  auto after = RunGraph(g, feeds);
  for (const auto& kv : before) EXPECT_LT(MaxRelDiff(after[kv.first], kv.second), 1e-5) << kv.first;

  // ReLU6 chain untouched: conv5's weight and conv4's output channels keep their ranges
  // (conv4 only rescales its input channels as a consumer of conv3).
  EXPECT_EQ(Init(g, NodeNamed(g, "conv5"), 1).ToDoubleVector(), w5_before.ToDoubleVector());
  EXPECT_NE(Init(g, NodeNamed(g, "conv4"), 1).ToDoubleVector(), w4_before.ToDoubleVector());

  // Balanced: conv1's output-channel ranges equal the consumers' input-channel ranges.
  auto r1 = OutRanges(Init(g, NodeNamed(g, "conv1"), 1));
  auto ra = InRanges(Init(g, NodeNamed(g, "conv2a"), 1)), rb = InRanges(Init(g, NodeNamed(g, "conv2b"), 1));
  for (int c = 0; c < 4; ++c) EXPECT_NEAR(r1[c], std::max(ra[c], rb[c]), 1e-3 * r1[c]) << c;
  double lo = 1e30, hi = 0;
  for (double r : r1) lo = std::min(lo, r), hi = std::max(hi, r);
  // sqrt(r1 * r2): 1e4 apart before (100 vs 0.01 times random weights), about 1e2 after.
  EXPECT_LT(hi / lo, 200.0);
  // Through Relu -> MaxPool: conv2a's output ranges match conv6's input ranges.
  auto r2a = OutRanges(Init(g, NodeNamed(g, "conv2a"), 1)), r6 = InRanges(Init(g, NodeNamed(g, "conv6"), 1));
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(r2a[c], r6[c], 2e-3 * r2a[c]) << c;
  // Depthwise conv3: its per-channel ranges match conv4's input-channel ranges.
  auto r3 = OutRanges(Init(g, NodeNamed(g, "conv3"), 1)), r4 = InRanges(Init(g, NodeNamed(g, "conv4"), 1));
  for (int c = 0; c < 5; ++c) EXPECT_NEAR(r3[c], r4[c], 2e-3 * r3[c]) << c;

  // Deterministic: the same pass on a fresh copy gives the same weights bit for bit.
  Graph g2 = MakeGraph();
  ASSERT_TRUE(PrepareGraph(g2).ok());
  PrepareOptions po;
  po.equalization = true;
  std::vector<PassReport> rep2;
  ASSERT_TRUE(PrepareForQuantization(g2, &rep2, po).ok());
  for (const char* n : {"conv1", "conv2a", "conv2b", "conv3", "conv4", "conv6"})
    EXPECT_EQ(Init(g2, NodeNamed(g2, n), 1).ToDoubleVector(), Init(g, NodeNamed(g, n), 1).ToDoubleVector()) << n;
  bool reported = false;
  for (const PassReport& r : rep2) reported |= r.pass == "equalize_channels" && r.changes == eq->channels();
  EXPECT_TRUE(reported);
}

// rescaled() gives each Conv's total factors: applied to the original weights they give the
// pass's weights (what the TorchScript writer does to the user's modules), depthwise included.
TEST(Equalize, RescaledFactorsReproduceTheWeights) {
  Graph g = MakeGraph();
  ASSERT_TRUE(PrepareGraph(g).ok());
  std::map<std::string, Tensor> orig, bias;
  for (const Node& n : g.nodes)
    if (n.op_type == "Conv") orig.emplace(n.name, Init(g, n, 1).Clone());
  bias.emplace("conv1", Init(g, NodeNamed(g, "conv1"), 2).Clone());
  PrepareOptions po;
  po.equalization = true;
  std::map<std::string, ChannelRescale> rescaled;
  ASSERT_TRUE(PrepareForQuantization(g, nullptr, po, &rescaled).ok());
  // conv1/conv2a/conv2b/conv3 start chains (out), conv2a/conv2b/conv3/conv4/conv6 end one (in);
  // conv5 (after ReLU6) is in none.
  EXPECT_EQ(rescaled.count("conv5"), 0u);
  EXPECT_EQ(rescaled.at("conv1").out_divided.size(), 4u);
  EXPECT_TRUE(rescaled.at("conv1").in_multiplied.empty());
  EXPECT_EQ(rescaled.at("conv4").in_multiplied.size(), 5u);
  EXPECT_TRUE(rescaled.at("conv4").out_divided.empty());
  EXPECT_EQ(rescaled.at("conv3").in_multiplied.size(), 5u);  // depthwise: one factor per group
  for (const auto& [name, r] : rescaled) {
    const Tensor& w0 = orig.at(name);
    const auto got = Init(g, NodeNamed(g, name), 1).ToDoubleVector();
    const auto v0 = w0.ToDoubleVector();
    const int64_t cout = w0.dim(0), cin = w0.dim(1), per = w0.numel() / (cout * cin);
    const int64_t groups = r.in_multiplied.empty() ? 1 : (int64_t)r.in_multiplied.size() / cin;
    for (int64_t o = 0; o < cout; ++o)
      for (int64_t i = 0; i < cin; ++i)
        for (int64_t e = 0; e < per; ++e) {
          double want = v0[(o * cin + i) * per + e];
          if (!r.out_divided.empty()) want /= r.out_divided[o];
          if (!r.in_multiplied.empty()) want *= r.in_multiplied[(o / (cout / groups)) * cin + i];
          const size_t k = (o * cin + i) * per + e;
          EXPECT_NEAR(got[k], want, 1e-5 * std::fabs(want) + 1e-7) << name << " " << k;
        }
  }
  const auto b = Init(g, NodeNamed(g, "conv1"), 2).ToDoubleVector(), b0 = bias.at("conv1").ToDoubleVector();
  for (int c = 0; c < 4; ++c) EXPECT_NEAR(b[c], b0[c] / rescaled.at("conv1").out_divided[c], 1e-5 * std::fabs(b[c]));
}

TEST(Equalize, SkipsSharedOutputsAndGraphOutputs) {
  Graph g = MakeGraph();
  g.outputs.push_back(g.FindValue("r1"));  // conv1's activation is also a graph output
  ASSERT_TRUE(PrepareGraph(g).ok());
  const auto w1 = Init(g, NodeNamed(g, "conv1"), 1).ToDoubleVector();
  EqualizePass pass;
  auto n = pass.Run(g);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 3);  // conv2a -> conv6, conv2b -> conv3 -> conv4 still
  EXPECT_EQ(Init(g, NodeNamed(g, "conv1"), 1).ToDoubleVector(), w1);
}

}  // namespace
}  // namespace dopt
