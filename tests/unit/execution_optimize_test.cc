// ExecutorOptions::optimize: the executor runs a rewritten copy (BN folded, activations fused
// into Conv) whose outputs match the plain run; the caller's graph is untouched; results do
// not depend on the thread count. Also the bulk float16 conversion used for inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "executor/executor.h"
#include "graph_test_util.h"
#include "ir/graph_edit.h"
#include "common/kernel_options.h"
#include "ops/op_util.h"
#include "passes/channels_last.h"
#include "ops/shape_inference.h"
#include "kernels/convert.h"

namespace dopt {
namespace {

Tensor Rand(const Shape& s, uint32_t seed) { return testutil::RandomTensor(s, seed, -1.f, 1.f); }

struct Builder {
  Graph g;
  bool constant_nodes = false;  // weights from Constant nodes (as paddle2onnx exports them)
  int Act(const std::string& name, Shape s) {
    Value v;
    v.name = name;
    v.dtype = DType::kFloat32;
    v.rank_known = true;
    v.shape = std::move(s);
    return g.AddValue(std::move(v));
  }
  int Const(const std::string& name, Tensor t) {
    if (!constant_nodes) return AddInitializer(g, name, std::move(t));
    const int v = AddIntermediate(g, name);
    Node("Constant", {}, {v}, {{"value", TensorAttr(std::move(t))}});
    return v;
  }
  int Unknown(const std::string& name) { return AddIntermediate(g, name); }
  void Node(const std::string& type, std::vector<int> ins, std::vector<int> outs, AttrList attrs = {}, int opset = 13) {
    g.AddNode(MakeNode(type, type + std::to_string(g.nodes.size()), std::move(ins), std::move(outs), std::move(attrs), opset));
  }
};

// x[1,8,12,12] -> Conv3x3 -> BN -> Relu -> Conv1x1(96) -> Clip(0,6) -> Conv3x3 dw-ish(group 4)
// -> LeakyRelu -> out1; also Conv1x1 -> out2 (a graph output) -> Relu -> out3 (not fused).
Graph MakeGraph(bool constant_nodes = false) {
  Builder b;
  b.constant_nodes = constant_nodes;
  int x = b.Act("x", {1, 8, 12, 12});
  b.g.inputs = {x};
  int c1 = b.Unknown("c1"), n1 = b.Unknown("n1"), r1 = b.Unknown("r1");
  b.Node("Conv", {x, b.Const("w1", Rand({16, 8, 3, 3}, 1)), b.Const("b1", Rand({16}, 2))}, {c1},
         {{"pads", IntsAttr({1, 1, 1, 1})}});
  Tensor var = Rand({16}, 6);
  for (int64_t i = 0; i < 16; ++i) var.data<float>()[i] = std::fabs(var.data<float>()[i]) + 0.1f;
  b.Node("BatchNormalization",
         {c1, b.Const("s", Rand({16}, 3)), b.Const("bb", Rand({16}, 4)), b.Const("m", Rand({16}, 5)), b.Const("v", var)},
         {n1});
  b.Node("Relu", {n1}, {r1});
  int c2 = b.Unknown("c2"), r2 = b.Unknown("r2");
  b.Node("Conv", {r1, b.Const("w2", Rand({96, 16, 1, 1}, 7))}, {c2});
  b.Node("Clip", {c2, b.Const("lo", Tensor::Scalar(0.f)), b.Const("hi", Tensor::Scalar(0.5f))}, {r2});
  int c3 = b.Unknown("c3"), out1 = b.Unknown("out1");
  b.Node("Conv", {r2, b.Const("w3", Rand({96, 24, 3, 3}, 8)), b.Const("b3", Rand({96}, 9))}, {c3},
         {{"pads", IntsAttr({1, 1, 1, 1})}, {"group", IntAttr(4)}});
  b.Node("LeakyRelu", {c3}, {out1}, {{"alpha", FloatAttr(0.2f)}});
  int out2 = b.Unknown("out2"), out3 = b.Unknown("out3");
  b.Node("Conv", {r1, b.Const("w4", Rand({8, 16, 1, 1}, 10))}, {out2});
  b.Node("Relu", {out2}, {out3});
  b.g.outputs = {out1, out2, out3};
  Status st = PrepareGraph(b.g);
  EXPECT_TRUE(st.ok()) << st.message();
  return b.g;
}

// channels_last: off by default here, the tests of the other passes count nodes and compare
// bits (tests/ops/channels_last_test.cc tests it).
std::map<std::string, Tensor> RunModel(const Graph& g, bool optimize, int threads, size_t* nodes = nullptr,
                                       bool channels_last = false) {
  ExecutorOptions o;
  o.num_threads = threads;
  o.optimize = optimize;
  o.channels_last = channels_last;
  auto ex = Executor::Create(g, o);
  EXPECT_TRUE(ex.ok()) << ex.status().message();
  if (nodes) *nodes = (*ex)->graph().nodes.size();
  std::map<std::string, Tensor> outs;
  Status st = (*ex)->Run({{"x", Rand(g.value(g.inputs[0]).shape, 99)}}, &outs);
  EXPECT_TRUE(st.ok()) << st.message();
  return outs;
}

TEST(ExecutionOptimize, SameOutputsFewerNodesCallerGraphUntouched) {
  Graph g = MakeGraph();
  const size_t before = g.nodes.size();
  size_t plain_nodes = 0, opt_nodes = 0;
  auto plain = RunModel(g, false, 1, &plain_nodes);
  auto opt = RunModel(g, true, 1, &opt_nodes);
  EXPECT_EQ(g.nodes.size(), before);
  EXPECT_EQ(plain_nodes, before);
  EXPECT_EQ(opt_nodes, before - 4);  // BN, Relu, Clip, LeakyRelu gone; Relu after out2 stays
  for (const Node& n : g.nodes) EXPECT_FALSE(n.HasAttr("dopt.fused_activation")) << n.Describe();
  ASSERT_EQ(plain.size(), 3u);
  for (const auto& kv : plain) {
    const Tensor& a = kv.second;
    const Tensor& b = opt.at(kv.first);
    ASSERT_EQ(a.shape(), b.shape()) << kv.first;
    const double tol = 1e-4;  // BN folding rounds differently
    for (int64_t i = 0; i < a.numel(); ++i)
      ASSERT_NEAR(a.data<float>()[i], b.data<float>()[i], tol * (1 + std::fabs(a.data<float>()[i]))) << kv.first << i;
  }
  // Clip(0, 0.5) really applied, LeakyRelu really applied.
  float mx = -1, mn = 1;
  for (int64_t i = 0; i < opt["out1"].numel(); ++i) mn = std::min(mn, opt["out1"].data<float>()[i]);
  for (int64_t i = 0; i < opt["out3"].numel(); ++i) mx = std::max(mx, opt["out3"].data<float>()[i]);
  EXPECT_LT(mn, 0.f);
  EXPECT_GE(mx, 0.f);
}

// The same model with every weight in a Constant node: they are folded into initializers first,
// so BatchNormalization still folds into the Conv and the activations still fuse.
TEST(ExecutionOptimize, WeightsInConstantNodesFoldAsInitializers) {
  Graph init = MakeGraph(false), nodes = MakeGraph(true);
  size_t init_nodes = 0, opt_nodes = 0, constants = 0;
  for (const Node& n : nodes.nodes) constants += n.op_type == "Constant";
  ASSERT_GT(constants, 10u);
  auto want = RunModel(init, true, 1, &init_nodes);
  auto got = RunModel(nodes, true, 1, &opt_nodes);
  EXPECT_EQ(opt_nodes, init_nodes);  // no Constant, BatchNormalization or activation node left
  for (const auto& kv : want) {
    const Tensor& b = got.at(kv.first);
    ASSERT_EQ(kv.second.nbytes(), b.nbytes()) << kv.first;
    EXPECT_EQ(0, std::memcmp(kv.second.raw(), b.raw(), b.nbytes())) << kv.first;
  }
}

TEST(ExecutionOptimize, FusedActivationEqualsSeparateRelu) {
  Graph g = MakeGraph();
  // Without BN (only fusion differs), the fused outputs must be bit-identical: drop BN by
  // checking out3 = Relu(out2), computed by the unfused Relu in both runs.
  auto opt = RunModel(g, true, 1);
  for (int64_t i = 0; i < opt["out2"].numel(); ++i) {
    float v = opt["out2"].data<float>()[i];
    EXPECT_EQ(opt["out3"].data<float>()[i], v > 0 ? v : 0.f);
  }
}

TEST(ExecutionOptimize, ResultsDoNotDependOnThreadCount) {
  Graph g = MakeGraph();
  auto one = RunModel(g, true, 1);
  auto two = RunModel(g, true, 2);
  auto three = RunModel(g, true, 3);
  for (const auto& kv : one) {
    ASSERT_EQ(0, std::memcmp(kv.second.raw(), two.at(kv.first).raw(), kv.second.nbytes())) << kv.first;
    ASSERT_EQ(0, std::memcmp(kv.second.raw(), three.at(kv.first).raw(), kv.second.nbytes())) << kv.first;
  }
}

TEST(ExecutionOptimize, RepeatedRunsGiveTheSameResult) {
  Graph g = MakeGraph();
  ExecutorOptions o;
  o.num_threads = 2;
  o.optimize = true;
  auto ex = Executor::Create(g, o);
  ASSERT_TRUE(ex.ok());
  std::map<std::string, Tensor> a, b;
  ASSERT_TRUE((*ex)->Run({{"x", Rand({1, 8, 12, 12}, 99)}}, &a).ok());
  ASSERT_TRUE((*ex)->Run({{"x", Rand({1, 8, 12, 12}, 99)}}, &b).ok());
  for (const auto& kv : a) ASSERT_EQ(0, std::memcmp(kv.second.raw(), b.at(kv.first).raw(), kv.second.nbytes()));
}

// Calibration's executor: optimize + exact_only + visible. Every value the optimised run still
// produces has the plain run's bits (no BN folding), and the visible values are all produced.
struct Recorder : Observer {
  std::map<int, Tensor> seen;
  void OnValue(const Graph&, int id, const Tensor& t) override { seen[id] = t.Clone(); }
};

TEST(ExecutionOptimize, VisibleValuesStayWithTheirBits) {
  Graph g = MakeGraph();
  const int c2 = g.FindValue("c2"), c1 = g.FindValue("c1");
  ASSERT_GE(c2, 0);
  auto record = [&](bool optimize, std::vector<int> visible, size_t* nodes) {
    ExecutorOptions o;
    o.num_threads = 2;
    o.optimize = optimize;
    o.exact_only = true;
    o.visible = std::move(visible);
    auto ex = Executor::Create(g, o);
    EXPECT_TRUE(ex.ok()) << ex.status().message();
    *nodes = (*ex)->graph().nodes.size();
    Recorder r;
    std::map<std::string, Tensor> outs;
    EXPECT_TRUE((*ex)->Run({{"x", Rand({1, 8, 12, 12}, 99)}}, &outs, &r).ok());
    return r.seen;
  };
  size_t plain_nodes = 0, opt_nodes = 0, watched_nodes = 0;
  auto plain = record(false, {}, &plain_nodes);
  auto opt = record(true, {}, &opt_nodes);
  auto watched = record(true, {c1, c2}, &watched_nodes);
  // Clip and LeakyRelu fused; BN stays (exact_only: not folded), the Relu after it runs in its
  // epilogue (the same bits).
  EXPECT_EQ(opt_nodes, plain_nodes - 3);
  EXPECT_EQ(watched_nodes, plain_nodes - 2);  // the Clip after c2 stays: c2 is watched
  EXPECT_FALSE(opt.count(c2));
  ASSERT_TRUE(watched.count(c2));
  ASSERT_TRUE(watched.count(c1));
  for (const auto* run : {&opt, &watched}) {
    for (const auto& [id, t] : *run) {
      ASSERT_TRUE(plain.count(id)) << g.value(id).name;
      ASSERT_EQ(t.shape(), plain[id].shape());
      EXPECT_EQ(0, std::memcmp(t.raw(), plain[id].raw(), t.nbytes())) << g.value(id).name;
    }
  }
}

// ---- fuse_conv_epilogue: element-wise chains after a Conv run in its epilogue ----

// x[1,8,12,12]; four Convs (3x3 through oneDNN where it applies, 1x1 through im2col + SGEMM,
// depthwise, grouped), each followed by a chain the pass fuses:
//   a: Conv3x3 -> Sigmoid -> Mul(conv, sigmoid)                                    (SiLU)
//   b: Conv1x1 -> Relu -> Mul(per-channel) -> Add(scalar) -> Add(3) -> Clip(0, 6)
//      -> Mul(affine, clip) -> Div(6) -> Sub(1 - v) -> Tanh                        (saved value mid-chain)
//   c: depthwise Conv -> HardSigmoid -> Mul(hs, conv) -> LeakyRelu -> HardSwish -> Div(per-channel / v)
//   d: grouped Conv -> Sigmoid -> Add(per-channel [8,1,1]) -> out_d (a graph output)
//      -> Mul(2) -> out_e: the chain stops at the graph output, Mul stays a node
//   f: Conv -> Relu -> r (also read by a later Conv): nothing after the Relu is fused
Graph MakeChainGraph() {
  Builder b;
  int x = b.Act("x", {1, 8, 12, 12});
  b.g.inputs = {x};
  auto scalar = [&](const std::string& n, float v) { return b.Const(n, Tensor::Scalar(v)); };
  auto channel = [&](const std::string& n, Shape s, uint32_t seed, float lo) {
    Tensor t = Rand(s, seed);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = lo + std::fabs(t.data<float>()[i]);
    return b.Const(n, t);
  };
  // a
  int ca = b.Unknown("ca"), sa = b.Unknown("sa"), out_a = b.Unknown("out_a");
  b.Node("Conv", {x, b.Const("wa", Rand({16, 8, 3, 3}, 11)), b.Const("ba", Rand({16}, 12))}, {ca},
         {{"pads", IntsAttr({1, 1, 1, 1})}});
  b.Node("Sigmoid", {ca}, {sa});
  b.Node("Mul", {ca, sa}, {out_a});
  // b
  int cb = b.Unknown("cb"), rb = b.Unknown("rb"), mb = b.Unknown("mb"), ab = b.Unknown("ab"), a3 = b.Unknown("a3"),
      cl = b.Unknown("cl"), hm = b.Unknown("hm"), dv = b.Unknown("dv"), sb = b.Unknown("sb"), out_b = b.Unknown("out_b");
  b.Node("Conv", {x, b.Const("wb", Rand({24, 8, 1, 1}, 13))}, {cb});
  b.Node("Relu", {cb}, {rb});
  b.Node("Mul", {rb, channel("kb", {24, 1, 1}, 14, 0.5f)}, {mb});
  b.Node("Add", {scalar("sh", -0.25f), mb}, {ab});
  b.Node("Add", {ab, scalar("three", 3.f)}, {a3});
  b.Node("Clip", {a3, scalar("zero", 0.f), scalar("six", 6.f)}, {cl});
  b.Node("Mul", {ab, cl}, {hm});
  b.Node("Div", {hm, scalar("six2", 6.f)}, {dv});
  b.Node("Sub", {scalar("one", 1.f), dv}, {sb});
  b.Node("Tanh", {sb}, {out_b});
  // c
  int cc = b.Unknown("cc"), hs = b.Unknown("hs"), mc = b.Unknown("mc"), lr = b.Unknown("lr"), hw = b.Unknown("hw"),
      out_c = b.Unknown("out_c");
  b.Node("Conv", {x, b.Const("wc", Rand({8, 1, 3, 3}, 15)), b.Const("bc", Rand({8}, 16))}, {cc},
         {{"pads", IntsAttr({1, 1, 1, 1})}, {"group", IntAttr(8)}});
  b.Node("HardSigmoid", {cc}, {hs}, {{"alpha", FloatAttr(0.3f)}, {"beta", FloatAttr(0.4f)}});
  b.Node("Mul", {hs, cc}, {mc});
  b.Node("LeakyRelu", {mc}, {lr}, {{"alpha", FloatAttr(0.1f)}});
  b.Node("HardSwish", {lr}, {hw});
  b.Node("Div", {channel("kc", {1, 8, 1, 1}, 17, 0.5f), hw}, {out_c});
  // d
  int cd = b.Unknown("cd"), ad = b.Unknown("ad"), out_d = b.Unknown("out_d"), out_e = b.Unknown("out_e");
  b.Node("Conv", {x, b.Const("wd", Rand({8, 2, 3, 3}, 18))}, {cd}, {{"pads", IntsAttr({1, 1, 1, 1})}, {"group", IntAttr(4)}});
  b.Node("Sigmoid", {cd}, {ad});
  b.Node("Add", {ad, channel("kd", {8, 1, 1}, 19, -1.f)}, {out_d});
  b.Node("Mul", {out_d, scalar("two", 2.f)}, {out_e});
  // f
  int cf = b.Unknown("cf"), rf = b.Unknown("rf"), sf = b.Unknown("sf"), out_f = b.Unknown("out_f");
  b.Node("Conv", {x, b.Const("wf", Rand({8, 8, 1, 1}, 20))}, {cf});
  b.Node("Relu", {cf}, {rf});
  b.Node("Sigmoid", {rf}, {sf});
  b.Node("Conv", {rf, b.Const("wg", Rand({8, 8, 1, 1}, 21))}, {out_f});
  int out_g = b.Unknown("out_g");
  b.Node("Add", {sf, out_f}, {out_g});
  // h: both Gelu forms (opset 20) around a scalar step
  int ch = b.Unknown("ch"), gh = b.Unknown("gh"), ah = b.Unknown("ah"), out_h = b.Unknown("out_h");
  b.Node("Conv", {x, b.Const("wh", Rand({8, 8, 3, 3}, 22))}, {ch}, {{"pads", IntsAttr({1, 1, 1, 1})}});
  b.Node("Gelu", {ch}, {gh}, {{"approximate", StringAttr("tanh")}}, 20);
  b.Node("Add", {gh, scalar("half", 0.5f)}, {ah});
  b.Node("Gelu", {ah}, {out_h}, {}, 20);
  b.g.outputs = {out_a, out_b, out_c, out_d, out_e, out_g, out_h};
  Status st = PrepareGraph(b.g);
  EXPECT_TRUE(st.ok()) << st.message();
  return b.g;
}

// The graph `make` builds, optimised (1 and 3 threads) against plain: every output has the same
// bits, with and without the reference kernels; `nodes` are left in the optimised graph.
void ExpectFusedSameBits(Graph (*make)(), size_t nodes, size_t outputs) {
  for (bool reference : {false, true}) {
    SetReferenceKernelsForced(reference);
    Graph g = make();
    size_t opt_nodes = 0;
    auto plain = RunModel(g, false, 1);
    auto opt = RunModel(g, true, 1, &opt_nodes);
    auto opt3 = RunModel(g, true, 3);
    SetReferenceKernelsForced(false);
    EXPECT_EQ(opt_nodes, nodes) << "reference " << reference;
    ASSERT_EQ(plain.size(), outputs);
    for (const auto& kv : plain) {
      const Tensor& a = kv.second;
      ASSERT_EQ(a.shape(), opt.at(kv.first).shape());
      EXPECT_EQ(0, std::memcmp(a.raw(), opt.at(kv.first).raw(), a.nbytes())) << kv.first << " reference " << reference;
      EXPECT_EQ(0, std::memcmp(a.raw(), opt3.at(kv.first).raw(), a.nbytes())) << kv.first << " reference " << reference;
    }
  }
}

TEST(FuseConvEpilogue, ChainsRunInTheConvWithTheSameBits) {
  // Left as nodes: the 7 Convs, out_d's Mul and f's Sigmoid (the final Add is out_f's Conv's
  // residual, fuse_conv_add).
  ExpectFusedSameBits(MakeChainGraph, 9, 7);
  // The chains did something: SiLU has negative values above -0.28, Tanh lies in (-1, 1).
  Graph g = MakeChainGraph();
  auto opt = RunModel(g, true, 1);
  float mn = 0;
  for (int64_t i = 0; i < opt["out_a"].numel(); ++i) mn = std::min(mn, opt["out_a"].data<float>()[i]);
  EXPECT_LT(mn, 0.f);
  EXPECT_GT(mn, -0.2785f);
}

// An executor of g optimised, without channels-last regions (its graph shows what fused).
std::unique_ptr<Executor> OptimisedChannelsFirst(const Graph& g) {
  ExecutorOptions o;
  o.optimize = true;
  o.channels_last = false;
  auto ex = Executor::Create(g, o);
  EXPECT_TRUE(ex.ok()) << ex.status().message();
  return ex.ok() ? std::move(*ex) : nullptr;
}

TEST(FuseConvEpilogue, WhatIsFusedAndWhatIsNot) {
  Graph g = MakeChainGraph();
  auto ex = OptimisedChannelsFirst(g);
  ASSERT_TRUE(ex);
  const Graph& og = ex->graph();
  std::map<std::string, std::vector<int64_t>> ops;  // output name -> the Conv's program
  for (const Node& n : og.nodes) {
    if (n.op_type != "Conv") continue;
    auto steps = GetEpilogueAttrs(n);
    ASSERT_TRUE(steps.ok());
    std::vector<int64_t> v;
    for (const auto& s : *steps) v.push_back((int64_t)s.op + (s.channel_c.empty() ? 0 : 1000));
    ops[og.value(n.outputs[0]).name] = v;
  }
  using S = kernels::EpilogueStep;
  EXPECT_EQ(ops["out_a"], (std::vector<int64_t>{S::kSave, S::kSigmoid, S::kMulSaved}));
  EXPECT_EQ(ops["out_b"], (std::vector<int64_t>{S::kMul + 1000, S::kAdd, S::kSave, S::kAdd, S::kClip, S::kMulSaved,
                                                S::kDiv, S::kSubFrom, S::kTanh}));
  EXPECT_EQ(ops["out_c"], (std::vector<int64_t>{S::kSave, S::kHardSigmoid, S::kMulSaved, S::kLeakyRelu, S::kHardSwish,
                                                S::kDivInto + 1000}));
  EXPECT_EQ(ops["out_d"], (std::vector<int64_t>{S::kSigmoid, S::kAdd + 1000}));
  EXPECT_EQ(ops["out_h"], (std::vector<int64_t>{S::kGelu, S::kAdd, S::kGelu}));
  EXPECT_EQ(ops["rf"], (std::vector<int64_t>{}));  // Relu fused as the activation; rf has two readers
  for (const Node& n : g.nodes) EXPECT_FALSE(n.HasAttr("dopt.epilogue_ops")) << "the caller's graph changed";
}

// A MatMul by a constant 2-D B anchors a chain too, its channels being B's columns (the last
// axis): a linear layer's bias Add and what follows, applied block by block by the prepacked
// GEMM (row blocks and column blocks), or after the SGEMM where that path declines.
//   m1: x -> MatMul [12, 40] -> Add(bias [40]) -> Relu                                   fused
//   m2: x -> MatMul [12, 512] -> MatMul [512, 200] -> Add([1,1,1,200]) -> Mul(2) -> Sub(1 - v)  fused (2 row blocks)
//   m3: x -> MatMul [12, 16] -> out_m3 (a graph output) -> Add(bias) -> out_m4           not fused
Graph MakeMatMulChainGraphOf(const Shape& xs) {
  Builder b;
  int x = b.Act("x", xs);
  b.g.inputs = {x};
  int m1 = b.Unknown("m1"), a1 = b.Unknown("a1"), out_m1 = b.Unknown("out_m1");
  b.Node("MatMul", {x, b.Const("w1", Rand({12, 40}, 31))}, {m1});
  b.Node("Add", {m1, b.Const("b1", Rand({40}, 32))}, {a1});
  b.Node("Relu", {a1}, {out_m1});
  int h = b.Unknown("h"), m2 = b.Unknown("m2"), a2 = b.Unknown("a2"), s2 = b.Unknown("s2"), out_m2 = b.Unknown("out_m2");
  b.Node("MatMul", {x, b.Const("w0", Rand({12, 512}, 33))}, {h});
  b.Node("MatMul", {h, b.Const("w2", Rand({512, 200}, 34))}, {m2});
  b.Node("Add", {b.Const("b2", Rand({1, 1, 1, 200}, 35)), m2}, {a2});
  b.Node("Mul", {a2, b.Const("two", Tensor::Scalar(2.f))}, {s2});
  b.Node("Sub", {b.Const("one", Tensor::Scalar(1.f)), s2}, {out_m2});
  int out_m3 = b.Unknown("out_m3"), out_m4 = b.Unknown("out_m4");
  b.Node("MatMul", {x, b.Const("w3", Rand({12, 16}, 36))}, {out_m3});
  b.Node("Add", {out_m3, b.Const("b3", Rand({16}, 37))}, {out_m4});
  b.g.outputs = {out_m1, out_m2, out_m3, out_m4};
  Status st = PrepareGraph(b.g);
  EXPECT_TRUE(st.ok()) << st.message();
  return b.g;
}

Graph MakeMatMulChainGraph() { return MakeMatMulChainGraphOf({1, 8, 12, 12}); }
// One row (the packed matmul's single-row primitive, then the chain over the row).
Graph MakeMatMulChainGraphOneRow() { return MakeMatMulChainGraphOf({1, 1, 1, 12}); }

TEST(FuseConvEpilogue, MatMulBiasAndActivationsWithTheSameBits) {
  ExpectFusedSameBits(MakeMatMulChainGraph, 5, 4);  // the 4 MatMuls and the Add after out_m3
  ExpectFusedSameBits(MakeMatMulChainGraphOneRow, 5, 4);
  Graph g = MakeMatMulChainGraph();
  ExecutorOptions o;
  o.optimize = true;
  auto ex = Executor::Create(g, o);
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  std::map<std::string, std::vector<int64_t>> ops;
  for (const Node& n : (*ex)->graph().nodes) {
    if (n.op_type != "MatMul") continue;
    auto steps = GetEpilogueAttrs(n);
    ASSERT_TRUE(steps.ok());
    std::vector<int64_t> v;
    for (const auto& st : *steps) v.push_back((int64_t)st.op + (st.channel_c.empty() ? 0 : 1000));
    ops[(*ex)->graph().value(n.outputs[0]).name] = v;
  }
  using S = kernels::EpilogueStep;
  EXPECT_EQ(ops["out_m1"], (std::vector<int64_t>{S::kAdd + 1000, S::kRelu}));
  EXPECT_EQ(ops["out_m2"], (std::vector<int64_t>{S::kAdd + 1000, S::kMul, S::kSubFrom}));
  EXPECT_EQ(ops["out_m3"], (std::vector<int64_t>{}));
}

// The epilogue attributes are internal, but a model file could carry them: a per-channel
// constant of the wrong length is an error, never an out-of-bounds read.
TEST(FuseConvEpilogue, MalformedAttributesAreAnError) {
  Builder b;
  int x = b.Act("x", {1, 8, 12, 12});
  b.g.inputs = {x};
  int y = b.Unknown("y");
  b.Node("Conv", {x, b.Const("w", Rand({16, 8, 1, 1}, 3))}, {y});
  b.g.outputs = {y};
  kernels::EpilogueStep step;
  step.op = kernels::EpilogueStep::kMul;
  step.channel_c = {2.f};  // one value for 16 channels
  SetEpilogueAttrs(b.g.nodes[0], {step});
  ASSERT_TRUE(PrepareGraph(b.g).ok());
  auto ex = Executor::Create(b.g, ExecutorOptions{});
  ASSERT_TRUE(ex.ok());
  std::map<std::string, Tensor> outs;
  Status st = (*ex)->Run({{"x", Rand({1, 8, 12, 12}, 99)}}, &outs);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("dopt.epilogue_channels"), std::string::npos) << st.message();
}

// ---- fuse_conv_add: a Conv's residual Add (and the Relu after it) run in the Conv ----

// x[1,16,10,10]:
//   a: Conv3x3 -> Relu -> Conv3x3 -> Add(., x) -> Relu -> out_a           (ResNet: fused, with the Relu)
//   b: Conv1x1 -> Sigmoid -> Mul (SiLU) -> Add(x, .) -> out_b              (YOLO: epilogue, then the Add)
//   c: Conv1x1 -> Add(., per-channel [16,1,1]) -> out_c                     (a broadcast: an epilogue step)
//   d: Conv1x1 -> out_d (a graph output) -> Add(out_d, x) -> out_e          (not fused)
//   f: Conv1x1 -> f (read twice) -> Add(f, f) -> out_f                      (not fused)
//   g: Conv1x1 -> Add(., x) -> s -> Relu, and s is also read by Sigmoid     (Add fused, Relu not)
Graph MakeResidualGraph() {
  Builder b;
  const Shape xs = {1, 16, 10, 10};
  int x = b.Act("x", xs);
  b.g.inputs = {x};
  auto w = [&](const std::string& n, int64_t k, uint32_t seed) { return b.Const(n, Rand({16, 16, k, k}, seed)); };
  const AttrList pad = {{"pads", IntsAttr({1, 1, 1, 1})}};
  int a1 = b.Unknown("a1"), a2 = b.Unknown("a2"), a3 = b.Unknown("a3"), a4 = b.Unknown("a4"), out_a = b.Unknown("out_a");
  b.Node("Conv", {x, w("wa1", 3, 31), b.Const("ba1", Rand({16}, 32))}, {a1}, pad);
  b.Node("Relu", {a1}, {a2});
  b.Node("Conv", {a2, w("wa2", 3, 33)}, {a3}, pad);
  b.Node("Add", {a3, x}, {a4});
  b.Node("Relu", {a4}, {out_a});
  int b1 = b.Unknown("b1"), b2 = b.Unknown("b2"), b3 = b.Unknown("b3"), out_b = b.Unknown("out_b");
  b.Node("Conv", {x, w("wb", 1, 34), b.Const("bb", Rand({16}, 35))}, {b1});
  b.Node("Sigmoid", {b1}, {b2});
  b.Node("Mul", {b1, b2}, {b3});
  b.Node("Add", {x, b3}, {out_b});
  int c1 = b.Unknown("c1"), out_c = b.Unknown("out_c");
  b.Node("Conv", {x, w("wc", 1, 36)}, {c1});
  b.Node("Add", {c1, b.Const("kc", Rand({16, 1, 1}, 37))}, {out_c});
  int out_d = b.Unknown("out_d"), out_e = b.Unknown("out_e");
  b.Node("Conv", {x, w("wd", 1, 38)}, {out_d});
  b.Node("Add", {out_d, x}, {out_e});
  int f1 = b.Unknown("f1"), out_f = b.Unknown("out_f");
  b.Node("Conv", {x, w("wf", 1, 39)}, {f1});
  b.Node("Add", {f1, f1}, {out_f});
  int g1 = b.Unknown("g1"), s = b.Unknown("s"), out_g = b.Unknown("out_g"), out_h = b.Unknown("out_h");
  b.Node("Conv", {x, w("wg", 1, 40)}, {g1});
  b.Node("Add", {g1, x}, {s});
  b.Node("Relu", {s}, {out_g});
  b.Node("Sigmoid", {s}, {out_h});
  b.g.outputs = {out_a, out_b, out_c, out_d, out_e, out_f, out_g, out_h};
  Status st = PrepareGraph(b.g);
  EXPECT_TRUE(st.ok()) << st.message();
  return b.g;
}

TEST(FuseConvAdd, ResidualsRunInTheConvWithTheSameBits) {
  // Left: the 7 Convs, d's and f's Adds, g's Relu and Sigmoid.
  ExpectFusedSameBits(MakeResidualGraph, 11, 8);
}

TEST(FuseConvAdd, WhatIsFusedAndWhatIsNot) {
  Graph g = MakeResidualGraph();
  auto ex = OptimisedChannelsFirst(g);
  ASSERT_TRUE(ex);
  const Graph& og = ex->graph();
  std::map<std::string, std::string> fused;  // output -> residual name + post activation
  for (const Node& n : og.nodes) {
    if (n.op_type != "Conv" || !n.HasAttr("dopt.fused_add")) continue;
    ASSERT_EQ(n.inputs.size(), 4u) << n.Describe();
    auto post = n.GetString("dopt.fused_post_activation", "");
    ASSERT_TRUE(post.ok());
    fused[og.value(n.outputs[0]).name] = og.value(n.inputs[3]).name + " " + *post;
  }
  const std::map<std::string, std::string> want = {{"out_a", "x Relu"}, {"out_b", "x "}, {"s", "x "}};
  EXPECT_EQ(fused, want);
  // The caller's graph keeps its Adds.
  int adds = 0;
  for (const Node& n : g.nodes) adds += n.op_type == "Add";
  EXPECT_EQ(adds, 6);
}

// A chain for the channels-last path (oneDNN's NHWC kernels add each block's residual), two
// images of 28x28 (blocks of rows):
// x[2,64,28,28] -> Conv3x3 -> Relu -> Conv3x3 -> Add(x) -> Relu -> h      (ResNet)
// h -> Conv1x1(256) -> t -> Conv1x1(256) -> Mul(per-channel) -> Add(t) -> u
//                       (blocks of rows x some channels, the epilogue after the primitive)
// u -> Conv1x1(64) -> Sigmoid -> Mul -> Add(h) -> v                        (YOLO)
// v -> Conv1x1(64) -> Add(v) -> Relu -> out                                (blocks of all channels)
Graph MakeResidualChain() {
  Builder b;
  int x = b.Act("x", {2, 64, 28, 28});
  b.g.inputs = {x};
  const AttrList pad = {{"pads", IntsAttr({1, 1, 1, 1})}};
  int a1 = b.Unknown("a1"), a2 = b.Unknown("a2"), a3 = b.Unknown("a3"), a4 = b.Unknown("a4"), h = b.Unknown("h");
  b.Node("Conv", {x, b.Const("w1", Rand({64, 64, 3, 3}, 51)), b.Const("b1", Rand({64}, 52))}, {a1}, pad);
  b.Node("Relu", {a1}, {a2});
  b.Node("Conv", {a2, b.Const("w2", Rand({64, 64, 3, 3}, 53))}, {a3}, pad);
  b.Node("Add", {a3, x}, {a4});
  b.Node("Relu", {a4}, {h});
  int t = b.Unknown("t"), t2 = b.Unknown("t2"), t3 = b.Unknown("t3"), u = b.Unknown("u");
  b.Node("Conv", {h, b.Const("w3", Rand({256, 64, 1, 1}, 54))}, {t});
  b.Node("Conv", {t, b.Const("w4", Rand({256, 256, 1, 1}, 55)), b.Const("b4", Rand({256}, 56))}, {t2});
  b.Node("Mul", {t2, b.Const("k4", Rand({256, 1, 1}, 58))}, {t3});
  b.Node("Add", {t, t3}, {u});
  int c = b.Unknown("c"), sg = b.Unknown("sg"), m = b.Unknown("m"), v = b.Unknown("v");
  b.Node("Conv", {u, b.Const("w5", Rand({64, 256, 1, 1}, 57))}, {c});
  b.Node("Sigmoid", {c}, {sg});
  b.Node("Mul", {c, sg}, {m});
  b.Node("Add", {h, m}, {v});
  int z = b.Unknown("z"), zs = b.Unknown("zs"), out = b.Unknown("out");
  b.Node("Conv", {v, b.Const("w6", Rand({64, 64, 1, 1}, 59))}, {z});
  b.Node("Add", {z, v}, {zs});
  b.Node("Relu", {zs}, {out});
  b.g.outputs = {out};
  Status st = PrepareGraph(b.g);
  EXPECT_TRUE(st.ok()) << st.message();
  return b.g;
}

// The chain channels-last: four Convs with their residual, channels-last; the plain run's
// values within float rounding, the same bits at 1 and 3 threads; without regions (channels
// first) the plain run's bits.
TEST(FuseConvAdd, ChannelsLastBlocksAddTheirResidual) {
  Graph g = MakeResidualChain();
  {
    ExecutorOptions o;
    o.optimize = true;
    auto ex = Executor::Create(g, o);
    ASSERT_TRUE(ex.ok()) << ex.status().message();
    int fused_last = 0, fused = 0;
    for (const Node& n : (*ex)->graph().nodes) {
      fused += n.HasAttr("dopt.fused_add");
      fused_last += IsChannelsLast(n) && n.HasAttr("dopt.fused_add");
    }
    EXPECT_EQ(fused, 4);
    if (fused_last == 0 && (ReferenceKernelsForced() || !ChannelsLastEnabled())) GTEST_SKIP() << "no channels-last regions here";
    EXPECT_EQ(fused_last, 4);
  }
  auto plain = RunModel(g, false, 1);
  auto first = RunModel(g, true, 2);
  auto one = RunModel(g, true, 1, nullptr, true), three = RunModel(g, true, 3, nullptr, true);
  const Tensor& a = plain.at("out");
  const Tensor& b = one.at("out");
  ASSERT_EQ(a.shape(), b.shape());
  EXPECT_EQ(0, std::memcmp(b.raw(), three.at("out").raw(), b.nbytes()));
  EXPECT_EQ(0, std::memcmp(a.raw(), first.at("out").raw(), a.nbytes()));
  // Seven convs deep on random weights (values up to a few hundred): float rounding in other
  // summation orders (oneDNN's channels-last kernels, AVX2 or AVX-512) within 1e-4 of the
  // largest value; a residual added in the wrong place or not at all is off by its own size.
  double spread = 0, largest = 0;
  for (int64_t i = 0; i < a.numel(); ++i) largest = std::max(largest, (double)std::fabs(a.data<float>()[i]));
  for (int64_t i = 0; i < a.numel(); ++i) {
    ASSERT_NEAR(a.data<float>()[i], b.data<float>()[i], 1e-4 * (1 + largest)) << i;
    spread = std::max(spread, (double)std::fabs(a.data<float>()[i] - a.data<float>()[0]));
  }
  EXPECT_GT(spread, 1.0);
}

// Activation shapes not fixed in the graph (symbolic spatial dims): the Adds stay nodes.
TEST(FuseConvAdd, UnknownShapesAreNotFused) {
  Builder b;
  Value v;
  v.name = "x";
  v.dtype = DType::kFloat32;
  v.rank_known = true;
  v.shape = {1, 8, -1, -1};
  v.dim_params = {"", "", "h", "w"};
  int x = b.g.AddValue(std::move(v));
  b.g.inputs = {x};
  int c = b.Unknown("c"), y = b.Unknown("y");
  b.Node("Conv", {x, b.Const("w", Rand({8, 8, 3, 3}, 3))}, {c}, {{"pads", IntsAttr({1, 1, 1, 1})}});
  b.Node("Add", {c, x}, {y});
  b.g.outputs = {y};
  ASSERT_TRUE(PrepareGraph(b.g).ok());
  auto ex = OptimisedChannelsFirst(b.g);
  ASSERT_TRUE(ex);
  int adds = 0;
  for (const Node& n : ex->graph().nodes) {
    adds += n.op_type == "Add";
    EXPECT_FALSE(n.HasAttr("dopt.fused_add")) << n.Describe();
  }
  EXPECT_EQ(adds, 1);
}

// A Conv that reads a fourth input without the pass's attribute is malformed: one clear error.
TEST(FuseConvAdd, FourthInputWithoutTheAttributeIsAnError) {
  Builder b;
  int x = b.Act("x", {1, 4, 6, 6});
  b.g.inputs = {x};
  int y = b.Unknown("y");
  b.Node("Conv", {x, b.Const("w", Rand({4, 4, 1, 1}, 1)), b.Const("b", Rand({4}, 2)), x}, {y});
  b.g.outputs = {y};
  Status st = PrepareGraph(b.g);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("Conv takes 2 or 3 inputs, got 4"), std::string::npos) << st.message();
}

TEST(HalfToFloatArray, MatchesScalarConversionForAllValues) {
  std::vector<uint16_t> h(65536);
  for (int i = 0; i < 65536; ++i) h[i] = (uint16_t)i;
  std::vector<float> f(65536);
  kernels::HalfToFloatArray(h.data(), f.data(), 65536);
  for (int i = 0; i < 65536; ++i) {
    float want = HalfToFloat((uint16_t)i);
    ASSERT_EQ(0, std::memcmp(&want, &f[i], 4)) << std::hex << i;
  }
}

}  // namespace
}  // namespace dopt
