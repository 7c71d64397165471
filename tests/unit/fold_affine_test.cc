// fold_affine: Mul/Div/Add/Sub by per-channel constants folded into Conv/ConvTranspose/Gemm,
// weights and bias worked out by hand, outputs unchanged, and the cases it must leave alone.
#include <gtest/gtest.h>

#include "../ops/check_op.h"

#include <cmath>
#include <random>

#include "executor/executor.h"
#include "frontends/onnx/onnx_frontend.h"
#include "ops/shape_inference.h"
#include "passes/fold_affine.h"
#include "quant/prepare.h"

namespace dopt {
namespace {

using optest::Random;
using optest::RunGraph;

double MaxAbsDiff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.numel(), b.numel());
  double m = 0;
  for (int64_t i = 0; i < a.numel() && i < b.numel(); ++i)
    m = std::max(m, (double)std::fabs(a.data<float>()[i] - b.data<float>()[i]));
  return m;
}

// A tiny graph builder.
struct Builder {
  Graph g;
  int Input(const std::string& n, const Shape& s) {
    Value v;
    v.name = n;
    v.dtype = DType::kFloat32;
    v.rank_known = true;
    v.shape = s;
    int id = g.AddValue(std::move(v));
    g.inputs.push_back(id);
    return id;
  }
  int Const(const std::string& n, Tensor t) {
    Value v;
    v.name = n;
    v.dtype = t.dtype();
    v.rank_known = true;
    v.shape = t.shape();
    v.initializer = std::move(t);
    return g.AddValue(std::move(v));
  }
  int Const(const std::string& n, const Shape& s, const std::vector<float>& vals) {
    return Const(n, Tensor::FromFloats(s, vals));
  }
  int Op(const std::string& type, const std::string& out, std::vector<int> ins,
         std::vector<std::pair<std::string, Attribute>> attrs = {}) {
    Value v;
    v.name = out;
    int o = g.AddValue(std::move(v));
    Node n;
    n.name = out + "_node";
    n.op_type = type;
    n.inputs = std::move(ins);
    n.outputs = {o};
    n.attributes = std::move(attrs);
    g.AddNode(std::move(n));
    return o;
  }
  void Output(int id) { g.outputs.push_back(id); }
};

std::pair<std::string, Attribute> IntAttr(const std::string& n, int64_t i) {
  Attribute a;
  a.kind = Attribute::Kind::kInt;
  a.i = i;
  return {n, a};
}
std::pair<std::string, Attribute> FloatAttr(const std::string& n, float f) {
  Attribute a;
  a.kind = Attribute::Kind::kFloat;
  a.f = f;
  return {n, a};
}

std::vector<double> Init(const Graph& g, int id) { return g.value(id).initializer->ToDoubleVector(); }

int RunPass(Graph& g) {
  FoldAffinePass pass;
  auto n = pass.Run(g);
  EXPECT_TRUE(n.ok()) << n.status().message();
  if (!n.ok()) return -1;
  Status st = PrepareGraph(g);
  EXPECT_TRUE(st.ok()) << st.message();
  return *n;
}

TEST(FoldAffine, ConvMulAddChainFoldsWithHandComputedWeights) {
  Builder b;
  int x = b.Input("x", {1, 2, 3, 3});
  int w = b.Const("w", {2, 2, 1, 1}, {1, 2, 3, 4});
  int bias = b.Const("b", {2}, {1, -1});
  int c = b.Op("Conv", "c", {x, w, bias});
  int m = b.Op("Mul", "m", {c, b.Const("k", {2, 1, 1}, {2, 3})});
  int y = b.Op("Add", "y", {b.Const("a", {1, 2, 1, 1}, {0.5f, 1}), m});  // constant first
  b.Output(y);
  Graph& g = b.g;
  ASSERT_TRUE(PrepareGraph(g).ok());
  std::map<std::string, Tensor> feeds{{"x", Random({1, 2, 3, 3}, 1)}};
  auto before = RunGraph(g, feeds);

  EXPECT_EQ(RunPass(g), 2);
  ASSERT_EQ(g.nodes.size(), 1u);
  const Node& conv = g.nodes[0];
  EXPECT_EQ(g.value(conv.outputs[0]).name, "y");
  EXPECT_EQ(g.value(conv.inputs[1]).name, "w");  // not shared: kept its name
  EXPECT_EQ(g.value(conv.inputs[2]).name, "b");
  // w' = w * k per output channel; b' = b * k + a
  EXPECT_EQ(Init(g, conv.inputs[1]), (std::vector<double>{2, 4, 9, 12}));
  EXPECT_EQ(Init(g, conv.inputs[2]), (std::vector<double>{2.5, -2}));
  auto after = RunGraph(g, feeds);
  EXPECT_LT(MaxAbsDiff(after["y"], before["y"]), 1e-5);
}

TEST(FoldAffine, ConvWithoutBiasSubAndDivAndScalar) {
  Builder b;
  int x = b.Input("x", {1, 2, 2, 2});
  int w = b.Const("w", {2, 2, 1, 1}, {1, 2, 3, 4});
  int c = b.Op("Conv", "c", {x, w});
  int d = b.Op("Div", "d", {c, b.Const("k", {1, 2, 1, 1}, {2, 4})});
  int s = b.Op("Sub", "s", {d, b.Const("a", {}, {1.5f})});  // scalar
  b.Output(s);
  Graph& g = b.g;
  ASSERT_TRUE(PrepareGraph(g).ok());
  std::map<std::string, Tensor> feeds{{"x", Random({1, 2, 2, 2}, 2)}};
  auto before = RunGraph(g, feeds);
  EXPECT_EQ(RunPass(g), 2);
  ASSERT_EQ(g.nodes.size(), 1u);
  const Node& conv = g.nodes[0];
  ASSERT_EQ(conv.inputs.size(), 3u);  // a bias was added
  EXPECT_EQ(Init(g, conv.inputs[1]), (std::vector<double>{0.5, 1, 0.75, 1}));
  EXPECT_EQ(Init(g, conv.inputs[2]), (std::vector<double>{-1.5, -1.5}));
  EXPECT_EQ(g.value(conv.outputs[0]).name, "s");
  auto after = RunGraph(g, feeds);
  EXPECT_LT(MaxAbsDiff(after["s"], before["s"]), 1e-6);
}

TEST(FoldAffine, GemmAddTransB0NoBias) {
  Builder b;
  int x = b.Input("x", {2, 3});
  int w = b.Const("w", {3, 2}, {1, 2, 3, 4, 5, 6});  // [K, N]
  int gm = b.Op("Gemm", "gm", {x, w});
  int m = b.Op("Mul", "m", {b.Const("k", {2}, {10, -1}), gm});  // constant first
  int y = b.Op("Add", "y", {m, b.Const("a", {2}, {1, 2})});
  b.Output(y);
  Graph& g = b.g;
  ASSERT_TRUE(PrepareGraph(g).ok());
  std::map<std::string, Tensor> feeds{{"x", Random({2, 3}, 3)}};
  auto before = RunGraph(g, feeds);
  EXPECT_EQ(RunPass(g), 2);
  ASSERT_EQ(g.nodes.size(), 1u);
  const Node& gemm = g.nodes[0];
  ASSERT_EQ(gemm.inputs.size(), 3u);
  EXPECT_EQ(Init(g, gemm.inputs[1]), (std::vector<double>{10, -2, 30, -4, 50, -6}));  // columns
  EXPECT_EQ(Init(g, gemm.inputs[2]), (std::vector<double>{1, 2}));
  auto after = RunGraph(g, feeds);
  EXPECT_LT(MaxAbsDiff(after["y"], before["y"]), 1e-5);
}

TEST(FoldAffine, GemmTransB1WithAlphaBeta) {
  Builder b;
  int x = b.Input("x", {2, 3});
  int w = b.Const("w", {2, 3}, {1, 2, 3, 4, 5, 6});  // [N, K]
  int cb = b.Const("c", {1, 2}, {10, 20});
  int gm = b.Op("Gemm", "gm", {x, w, cb}, {IntAttr("transB", 1), FloatAttr("alpha", 2), FloatAttr("beta", 0.5f)});
  int m = b.Op("Mul", "m", {gm, b.Const("k", {1, 2}, {2, 3})});
  int y = b.Op("Add", "y", {m, b.Const("a", {}, {1})});
  b.Output(y);
  Graph& g = b.g;
  ASSERT_TRUE(PrepareGraph(g).ok());
  std::map<std::string, Tensor> feeds{{"x", Random({2, 3}, 4)}};
  auto before = RunGraph(g, feeds);
  EXPECT_EQ(RunPass(g), 2);
  ASSERT_EQ(g.nodes.size(), 1u);
  const Node& gemm = g.nodes[0];
  EXPECT_EQ(Init(g, gemm.inputs[1]), (std::vector<double>{2, 4, 6, 12, 15, 18}));  // rows
  // C' = C * k + a / beta = {20 + 2, 60 + 2}
  EXPECT_EQ(Init(g, gemm.inputs[2]), (std::vector<double>{22, 62}));
  auto after = RunGraph(g, feeds);
  EXPECT_LT(MaxAbsDiff(after["y"], before["y"]), 1e-4);
}

TEST(FoldAffine, ConvTransposeGroupedMul) {
  Builder b;
  int x = b.Input("x", {1, 2, 2, 2});
  // [Cin = 2, Cout/group = 2, 1, 1], group 2 -> Cout 4
  int w = b.Const("w", {2, 2, 1, 1}, {1, 2, 3, 4});
  int c = b.Op("ConvTranspose", "c", {x, w}, {IntAttr("group", 2)});
  int y = b.Op("Mul", "y", {c, b.Const("k", {4, 1, 1}, {1, 2, 3, 4})});
  b.Output(y);
  Graph& g = b.g;
  ASSERT_TRUE(PrepareGraph(g).ok());
  std::map<std::string, Tensor> feeds{{"x", Random({1, 2, 2, 2}, 5)}};
  auto before = RunGraph(g, feeds);
  EXPECT_EQ(RunPass(g), 1);
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].inputs.size(), 2u);  // a scale needs no bias
  EXPECT_EQ(Init(g, g.nodes[0].inputs[1]), (std::vector<double>{1, 4, 9, 16}));
  auto after = RunGraph(g, feeds);
  EXPECT_LT(MaxAbsDiff(after["y"], before["y"]), 1e-5);
}

TEST(FoldAffine, SharedWeightsGetACopy) {
  Builder b;
  int x = b.Input("x", {1, 2, 2, 2});
  int w = b.Const("w", {2, 2, 1, 1}, {1, 2, 3, 4});
  int c1 = b.Op("Conv", "c1", {x, w});
  int c2 = b.Op("Conv", "c2", {x, w});
  int y = b.Op("Mul", "y", {c1, b.Const("k", {2, 1, 1}, {2, 2})});
  b.Output(y);
  b.Output(c2);
  Graph& g = b.g;
  ASSERT_TRUE(PrepareGraph(g).ok());
  EXPECT_EQ(RunPass(g), 1);
  EXPECT_EQ(Init(g, g.FindValue("w")), (std::vector<double>{1, 2, 3, 4}));
  for (const Node& n : g.nodes)
    if (g.value(n.outputs[0]).name == "y") {
      EXPECT_NE(g.value(n.inputs[1]).name, "w");
      EXPECT_EQ(Init(g, n.inputs[1]), (std::vector<double>{2, 4, 6, 8}));
    }
}

// Each builds Conv(x, w) -> <op>, with something that must stop the fold.
TEST(FoldAffine, LeavesUnsafeCasesAlone) {
  struct Case {
    const char* what;
    std::function<void(Builder&, int conv)> finish;
  };
  std::vector<Case> cases = {
      {"non-constant operand",
       [](Builder& b, int c) { b.Output(b.Op("Mul", "y", {c, b.Input("z", {1, 2, 1, 1})})); }},
      {"constant along a spatial dim",
       [](Builder& b, int c) { b.Output(b.Op("Mul", "y", {c, b.Const("k", {1, 1, 3, 1}, {1, 2, 3})})); }},
      {"[C] against an NCHW output",
       [](Builder& b, int c) { b.Output(b.Op("Add", "y", {c, b.Const("k", {2}, {1, 2})})); }},
      {"broadcast enlarges the output",
       [](Builder& b, int c) { b.Output(b.Op("Mul", "y", {c, b.Const("k", {2, 2, 1, 1}, {1, 2, 3, 4})})); }},
      {"constant of higher rank",
       [](Builder& b, int c) { b.Output(b.Op("Mul", "y", {c, b.Const("k", {1, 1, 2, 1, 1}, {1, 2})})); }},
      {"a - y", [](Builder& b, int c) { b.Output(b.Op("Sub", "y", {b.Const("k", {2, 1, 1}, {1, 2}), c})); }},
      {"k / y", [](Builder& b, int c) { b.Output(b.Op("Div", "y", {b.Const("k", {2, 1, 1}, {1, 2}), c})); }},
      {"division by zero",
       [](Builder& b, int c) { b.Output(b.Op("Div", "y", {c, b.Const("k", {2, 1, 1}, {1, 0})})); }},
      {"conv output is a graph output",
       [](Builder& b, int c) {
         b.Output(b.Op("Mul", "y", {c, b.Const("k", {2, 1, 1}, {1, 2})}));
         b.Output(c);
       }},
      {"conv output used twice",
       [](Builder& b, int c) {
         b.Output(b.Op("Mul", "y", {c, b.Const("k", {2, 1, 1}, {1, 2})}));
         b.Output(b.Op("Relu", "r", {c}));
       }},
      {"non-float constant",
       [](Builder& b, int c) {
         Tensor t(DType::kInt32, {2, 1, 1});
         t.data<int32_t>()[0] = 1;
         t.data<int32_t>()[1] = 2;
         b.Output(b.Op("Mul", "y", {c, b.Const("k", std::move(t))}));
       }},
  };
  for (const Case& cs : cases) {
    Builder b;
    int x = b.Input("x", {1, 2, 3, 3});
    int c = b.Op("Conv", "c", {x, b.Const("w", {2, 2, 1, 1}, {1, 2, 3, 4})});
    cs.finish(b, c);
    (void)PrepareGraph(b.g);  // some cases are not valid models; the pass must still leave them
    FoldAffinePass pass;
    auto n = pass.Run(b.g);
    ASSERT_TRUE(n.ok()) << cs.what << ": " << n.status().message();
    EXPECT_EQ(*n, 0) << cs.what;
    EXPECT_EQ(b.g.nodes.size(), 2u + (std::string(cs.what) == "conv output used twice")) << cs.what;
  }
}

TEST(FoldAffine, GemmBiasVaryingPerRowIsLeftAlone) {
  Builder b;
  int x = b.Input("x", {2, 3});
  int w = b.Const("w", {3, 2}, {1, 2, 3, 4, 5, 6});
  int gm = b.Op("Gemm", "gm", {x, w, b.Const("c", {2, 1}, {1, 2})});
  b.Output(b.Op("Mul", "y", {gm, b.Const("k", {2}, {2, 3})}));
  ASSERT_TRUE(PrepareGraph(b.g).ok());
  EXPECT_EQ(RunPass(b.g), 0);
}

TEST(FoldAffine, PrepareForQuantizationRunsIt) {
  Builder b;
  int x = b.Input("x", {1, 2, 3, 3});
  int c = b.Op("Conv", "c", {x, b.Const("w", {2, 2, 1, 1}, {1, 2, 3, 4})});
  b.Output(b.Op("Mul", "y", {c, b.Const("k", {2, 1, 1}, {2, 3})}));
  ASSERT_TRUE(PrepareGraph(b.g).ok());
  std::vector<PassReport> rep;
  Status st = PrepareForQuantization(b.g, &rep);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(rep.size(), 3u);
  EXPECT_EQ(rep[0].pass, "fold_constants");
  EXPECT_EQ(rep[1].pass, "fold_batchnorm");
  EXPECT_EQ(rep[2].pass, "fold_affine");
  EXPECT_EQ(rep[2].changes, 1);
  EXPECT_EQ(b.g.nodes.size(), 1u);
}

TEST(FoldAffine, MnistConvBiasAddsFoldAndOutputsAreUnchanged) {
  std::string path = std::string(DOPT_SOURCE_DIR) + "/../shared/testdata/models/onnx/mnist_cntk.onnx";
  auto g = LoadOnnxModel(path);
  if (!g.ok()) GTEST_SKIP() << g.status().message();
  std::map<std::string, Tensor> feeds{{"Input3", Random({1, 1, 28, 28}, 9)}};
  auto before = RunGraph(*g, feeds);
  const size_t nodes = g->nodes.size();
  std::vector<PassReport> rep;
  Status st = PrepareForQuantization(*g, &rep);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(rep.size(), 3u);
  EXPECT_EQ(rep[0].pass, "fold_constants");
  EXPECT_EQ(rep[0].changes, 1);  // the Reshape of the MatMul weight (a constant) becomes an initializer
  EXPECT_EQ(rep[2].changes, 2);  // Conv -> Add([C,1,1]) twice; the MatMul -> Add stays
  EXPECT_EQ(g->nodes.size(), nodes - 3);
  auto after = RunGraph(*g, feeds);
  for (const auto& kv : before) EXPECT_LT(MaxAbsDiff(after[kv.first], kv.second), 1e-4) << kv.first;
  auto bytes = SerializeOnnxModel(*g);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  auto again = LoadOnnxModelFromBytes(*bytes, "folded.onnx", ".");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->nodes.size(), nodes - 3);
}

}  // namespace
}  // namespace dopt
