// PrepareForQuantization repeats fold_batchnorm and fold_affine until nothing changes: the
// TensorFlow pattern Conv -> Add(bias) -> BatchNormalization folds entirely into the Conv,
// weights and bias worked out by hand, and the graph computes the same outputs.
#include <gtest/gtest.h>

#include "../ops/check_op.h"

#include <cmath>

#include "ops/shape_inference.h"
#include "quant/prepare.h"

namespace dopt {
namespace {

using optest::AddTestInput;
using optest::AddTestValue;
using optest::Random;
using optest::RunGraph;

int AddOp(Graph& g, const std::string& type, const std::string& name, std::vector<int> ins,
          std::vector<std::pair<std::string, Attribute>> attrs = {}) {
  int o = AddTestValue(g, name);
  Node n;
  n.name = name;
  n.op_type = type;
  n.inputs = std::move(ins);
  n.outputs = {o};
  n.attributes = std::move(attrs);
  g.AddNode(std::move(n));
  return o;
}

TEST(PrepareForQuantization, ConvAddBatchNormFoldsToOneConv) {
  Graph g;
  int x = AddTestInput(g, "x", DType::kFloat32, {1, 2, 3, 3});
  // w: [2, 2, 1, 1] = {1, 2; 3, 4}; BiasAdd-like Add of [2, 1, 1] = {0.5, -1}.
  int w = AddTestValue(g, "w", Tensor::FromFloats({2, 2, 1, 1}, {1, 2, 3, 4}));
  int c = AddOp(g, "Conv", "conv", {x, w});
  int a = AddOp(g, "Add", "bias", {c, AddTestValue(g, "b", Tensor::FromFloats({2, 1, 1}, {0.5f, -1.f}))});
  // BN: scale {2, 1}, shift {0, 3}, mean {1, 0}, var {4 - eps, 1 - eps}: k = {1, 1}... use var
  // so that sqrt(var + eps) = {2, 0.5}: k = scale / sqrt = {1, 2}.
  const float eps = 1e-3f;
  int bn = AddOp(g, "BatchNormalization", "bn",
                 {a, AddTestValue(g, "s", Tensor::FromFloats({2}, {2, 1})),
                  AddTestValue(g, "sh", Tensor::FromFloats({2}, {0, 3})),
                  AddTestValue(g, "m", Tensor::FromFloats({2}, {1, 0})),
                  AddTestValue(g, "v", Tensor::FromFloats({2}, {4 - eps, 0.25f - eps}))},
                 {{"epsilon", FloatAttr(eps)}});
  g.outputs.push_back(bn);
  ASSERT_TRUE(PrepareGraph(g).ok());
  std::map<std::string, Tensor> feeds{{"x", Random({1, 2, 3, 3}, 3)}};
  auto before = RunGraph(g, feeds);

  std::vector<PassReport> rep;
  Status st = PrepareForQuantization(g, &rep);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(g.nodes.size(), 1u);
  const Node& conv = g.nodes[0];
  EXPECT_EQ(conv.op_type, "Conv");
  EXPECT_EQ(g.value(conv.outputs[0]).name, "bn");
  ASSERT_EQ(conv.inputs.size(), 3u);
  // k = {1, 2}: W row 0 x1, row 1 x2; bias = (b - mean) * k + shift = {-0.5, 1}.
  auto wv = g.value(conv.inputs[1]).initializer->ToDoubleVector();
  auto bv = g.value(conv.inputs[2]).initializer->ToDoubleVector();
  ASSERT_EQ(wv.size(), 4u);
  EXPECT_NEAR(wv[0], 1, 1e-5);
  EXPECT_NEAR(wv[1], 2, 1e-5);
  EXPECT_NEAR(wv[2], 6, 1e-5);
  EXPECT_NEAR(wv[3], 8, 1e-5);
  ASSERT_EQ(bv.size(), 2u);
  EXPECT_NEAR(bv[0], -0.5, 1e-5);
  EXPECT_NEAR(bv[1], 1.0, 1e-5);
  // One report per pass, summed over the rounds: the Add, then the BatchNormalization (after
  // fold_constants, which has nothing to do here).
  ASSERT_EQ(rep.size(), 3u);
  EXPECT_EQ(rep[0].pass, "fold_constants");
  EXPECT_EQ(rep[0].changes, 0);
  EXPECT_EQ(rep[1].pass, "fold_batchnorm");
  EXPECT_EQ(rep[1].changes, 1);
  EXPECT_EQ(rep[2].pass, "fold_affine");
  EXPECT_EQ(rep[2].changes, 1);

  auto after = RunGraph(g, feeds);
  const Tensor& y0 = before.at("bn");
  const Tensor& y1 = after.at("bn");
  ASSERT_EQ(y0.numel(), y1.numel());
  for (int64_t i = 0; i < y0.numel(); ++i) EXPECT_NEAR(y0.data<float>()[i], y1.data<float>()[i], 1e-4) << i;
}

}  // namespace
}  // namespace dopt
