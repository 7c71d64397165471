// BatchNormalization folding: same outputs before and after, BN nodes gone, names kept.
#include <gtest/gtest.h>

#include "../ops/check_op.h"

#include <cmath>
#include <random>

#include "executor/executor.h"
#include "frontends/onnx/onnx_frontend.h"
#include "ops/shape_inference.h"
#include "passes/fold_batchnorm.h"

namespace dopt {
namespace {

using optest::Random;
using optest::MaxRelDiff;
using optest::RunGraph;

int CountOps(const Graph& g, const std::string& type) {
  int n = 0;
  for (const Node& node : g.nodes) n += node.op_type == type;
  return n;
}

TEST(FoldBatchNorm, UltraFaceOutputsUnchanged) {
  std::string path = std::string(DOPT_SOURCE_DIR) + "/../shared/testdata/models/onnx/ultraface_slim_320_nopost.onnx";
  auto g = LoadOnnxModel(path);
  if (!g.ok()) GTEST_SKIP() << g.status().message();
  std::map<std::string, Tensor> feeds{{"input", Random({1, 3, 240, 320}, 5)}};
  auto before = RunGraph(*g, feeds);
  int bns = CountOps(*g, "BatchNormalization");
  ASSERT_GT(bns, 10);
  PassManager pm;
  pm.Add(std::make_unique<FoldBatchNormPass>());
  std::vector<PassReport> rep;
  Status st = pm.Run(*g, &rep);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(rep[0].changes, bns);
  EXPECT_EQ(CountOps(*g, "BatchNormalization"), 0);
  auto after = RunGraph(*g, feeds);
  for (const auto& kv : before) EXPECT_LT(MaxRelDiff(after[kv.first], kv.second), 1e-4) << kv.first;
  // The folded model still writes and reloads.
  auto bytes = SerializeOnnxModel(*g);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  auto again = LoadOnnxModelFromBytes(*bytes, "folded.onnx", ".");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(CountOps(*again, "BatchNormalization"), 0);
}

TEST(FoldBatchNorm, ConvWithoutBiasGetsOneAndSharedOutputIsLeftAlone) {
  Graph g;
  auto add_value = [&](const std::string& n, std::optional<Tensor> init = std::nullopt) {
    return optest::AddTestValue(g, n, std::move(init));
  };
  optest::AddTestInput(g, "x", DType::kFloat32, {1, 2, 3, 3});
  int w = add_value("w", Tensor::FromFloats({2, 2, 1, 1}, {1, 2, 3, 4}));
  int c = add_value("c");
  int sc = add_value("s", Tensor::FromFloats({2}, {2, 0.5f}));
  int bi = add_value("b", Tensor::FromFloats({2}, {1, -1}));
  int mn = add_value("m", Tensor::FromFloats({2}, {0.5f, 0}));
  int vr = add_value("v", Tensor::FromFloats({2}, {4, 1}));
  int y = add_value("y");
  Node conv;
  conv.name = "conv";
  conv.op_type = "Conv";
  conv.inputs = {g.inputs[0], w};
  conv.outputs = {c};
  Node bn;
  bn.name = "bn";
  bn.op_type = "BatchNormalization";
  bn.inputs = {c, sc, bi, mn, vr};
  bn.outputs = {y};
  bn.attributes.push_back({"epsilon", Attribute{}});
  bn.attributes[0].second.kind = Attribute::Kind::kFloat;
  bn.attributes[0].second.f = 0.f;
  g.AddNode(conv);
  g.AddNode(bn);
  g.outputs.push_back(y);
  ASSERT_TRUE(PrepareGraph(g).ok());
  std::map<std::string, Tensor> feeds{{"x", Random({1, 2, 3, 3}, 1)}};
  auto before = RunGraph(g, feeds);

  Graph shared = g;  // same graph, but the conv output is also a graph output: no folding
  shared.outputs.push_back(shared.FindValue("c"));
  FoldBatchNormPass pass;
  auto n = pass.Run(shared);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);

  n = pass.Run(g);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  ASSERT_TRUE(PrepareGraph(g).ok());
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].inputs.size(), 3u);  // a bias was added
  // k = s / sqrt(v) = {1, 0.5}: w' = {1, 2, 1.5, 2}; b' = (0 - m) * k + b = {0.5, -1}
  auto wv = g.value(g.nodes[0].inputs[1]).initializer->ToDoubleVector();
  EXPECT_EQ(wv, (std::vector<double>{1, 2, 1.5, 2}));
  auto bv = g.value(g.nodes[0].inputs[2]).initializer->ToDoubleVector();
  EXPECT_EQ(bv, (std::vector<double>{0.5, -1}));
  EXPECT_EQ(g.value(g.nodes[0].outputs[0]).name, "y");
  auto after = RunGraph(g, feeds);
  EXPECT_LT(MaxRelDiff(after["y"], before["y"]), 1e-6);
  EXPECT_FALSE(g.value(g.nodes[0].inputs[2]).stored_float64);
}

// A weight the source stores as float64 (Value::stored_float64): the bias the fold adds takes
// its mark (graph_edit's AddInitializerLike), so the writer writes both as float64.
TEST(FoldBatchNorm, NewBiasKeepsTheWeightsFloat64Mark) {
  Graph g;
  optest::AddTestInput(g, "x", DType::kFloat32, {1, 2, 3, 3});
  int w = optest::AddTestValue(g, "w", Tensor::FromFloats({2, 2, 1, 1}, {1, 2, 3, 4}));
  g.value(w).stored_float64 = true;
  int c = optest::AddTestValue(g, "c");
  std::vector<int> p;
  for (const char* n : {"s", "b", "m", "v"}) p.push_back(optest::AddTestValue(g, n, Tensor::FromFloats({2}, {1, 2})));
  int y = optest::AddTestValue(g, "y");
  Node conv;
  conv.name = "conv";
  conv.op_type = "Conv";
  conv.inputs = {g.inputs[0], w};
  conv.outputs = {c};
  Node bn;
  bn.name = "bn";
  bn.op_type = "BatchNormalization";
  bn.inputs = {c, p[0], p[1], p[2], p[3]};
  bn.outputs = {y};
  g.AddNode(conv);
  g.AddNode(bn);
  g.outputs.push_back(y);
  ASSERT_TRUE(PrepareGraph(g).ok());
  auto n = FoldBatchNormPass().Run(g);
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(*n, 1);
  ASSERT_EQ(g.nodes.size(), 1u);
  ASSERT_EQ(g.nodes[0].inputs.size(), 3u);
  EXPECT_TRUE(g.value(g.nodes[0].inputs[1]).stored_float64);
  EXPECT_TRUE(g.value(g.nodes[0].inputs[2]).stored_float64);
}

}  // namespace
}  // namespace dopt
