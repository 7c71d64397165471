// The executor's channels_last pass (passes/channels_last.h): regions of convolutions, pools,
// Concat and element-wise ops run on [N, H, W, C] data and give the channels-first results
// (up to the float rounding of a different conv kernel); transposes only at a region's edges;
// a region with one convolution is left alone; results do not depend on the thread count.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "check_op.h"
#include "common/kernel_options.h"
#include "executor/executor.h"
#include "ir/graph_edit.h"
#include "ops/op_util.h"
#include "ops/shape_inference.h"

namespace dopt {
namespace {

using optest::AddTestInput;
using optest::AddTestValue;

Tensor Rand(const Shape& s, uint32_t seed) { return optest::Random(s, seed); }

// A hand-built graph (optest's helpers): Op adds a node writing a new value.
struct Builder {
  Graph g;
  int Input(const std::string& name, Shape s) { return AddTestInput(g, name, DType::kFloat32, std::move(s)); }
  int C(const std::string& name, Tensor t) { return AddTestValue(g, name, std::move(t)); }
  int Op(const std::string& type, std::vector<int> ins, const std::string& out, AttrList attrs = {}) {
    const int o = AddTestValue(g, out);
    g.AddNode(MakeNode(type, type + std::to_string(g.nodes.size()), std::move(ins), {o}, std::move(attrs), 17));
    return o;
  }
  int Conv(int x, int64_t cin, int64_t cout, int64_t k, uint32_t seed, int64_t group = 1, int64_t stride = 1) {
    const int64_t p = k / 2;
    return Op("Conv", {x, C("w" + std::to_string(seed), Rand({cout, cin / group, k, k}, seed)),
                       C("b" + std::to_string(seed), Rand({cout}, seed + 1))},
              "conv" + std::to_string(seed),
              {{"pads", IntsAttr({p, p, p, p})}, {"group", IntAttr(group)}, {"strides", IntsAttr({stride, stride})}});
  }
};

// x[1,8,17,16] -> Conv3x3(16)+Relu -> MaxPool 3x3 s2 (ceil) -> {Conv1x1(12), Conv3x3(20)} -> Concat
// -> Dropout -> Add [32,1,1] -> Mul [1,1,8,8] (varies over space) -> Sub(self-residual) -> Resize nearest
// (2, 1.5) -> AveragePool 3x3
// pad 1 -> depthwise Conv3x3 s2 -> Sigmoid -> GlobalAveragePool -> out_pool; the Concat is also
// a graph output (out_cat) and is read by a Softmax (channels-first only) -> out_soft.
Graph MakeGraph() {
  Builder b;
  const int x = b.Input("x", {1, 8, 17, 16});
  int c1 = b.Conv(x, 8, 16, 3, 10);
  c1 = b.Op("Relu", {c1}, "r1");
  const int mp = b.Op("MaxPool", {c1}, "mp",
                      {{"kernel_shape", IntsAttr({3, 3})}, {"strides", IntsAttr({2, 2})}, {"ceil_mode", IntAttr(1)}});
  const int a = b.Conv(mp, 16, 12, 1, 20), c = b.Conv(mp, 16, 20, 3, 30);
  const int cat = b.Op("Concat", {a, c}, "out_cat", {{"axis", IntAttr(-3)}});
  const int drop = b.Op("Dropout", {cat}, "drop");
  const int add = b.Op("Add", {drop, b.C("k1", Rand({32, 1, 1}, 40))}, "add");
  const int mul = b.Op("Mul", {b.C("k2", Rand({1, 1, 8, 8}, 41)), add}, "mul");
  const int sub = b.Op("Sub", {mul, add}, "sub");
  Tensor scales(DType::kFloat32, {4});
  const float sc[4] = {1.f, 1.f, 2.f, 1.5f};
  std::memcpy(scales.raw(), sc, sizeof sc);
  const int up = b.Op("Resize", {sub, -1, b.C("scales", scales)}, "up",
                      {{"mode", StringAttr("nearest")}, {"coordinate_transformation_mode", StringAttr("asymmetric")},
                       {"nearest_mode", StringAttr("floor")}});
  const int ap = b.Op("AveragePool", {up}, "ap",
                      {{"kernel_shape", IntsAttr({3, 3})}, {"pads", IntsAttr({1, 1, 1, 1})},
                       {"count_include_pad", IntAttr(1)}});
  int dw = b.Conv(ap, 32, 32, 3, 50, 32, 2);
  dw = b.Op("Sigmoid", {dw}, "sig");
  const int gp = b.Op("GlobalAveragePool", {dw}, "out_pool");
  const int soft = b.Op("Softmax", {cat}, "out_soft", {{"axis", IntAttr(1)}});
  b.g.outputs = {gp, cat, soft};
  Status st = PrepareGraph(b.g);
  EXPECT_TRUE(st.ok()) << st.message();
  return b.g;
}

struct Result {
  std::map<std::string, Tensor> outs;
  int transposes = 0, channels_last_nodes = 0;
};

Result RunGraph(const Graph& g, bool optimize, bool channels_last, int threads) {
  ExecutorOptions o;
  o.num_threads = threads;
  o.optimize = optimize;
  o.channels_last = channels_last;
  auto ex = Executor::Create(g, o);
  EXPECT_TRUE(ex.ok()) << ex.status().message();
  Result r;
  for (const Node& n : (*ex)->graph().nodes) {
    r.transposes += n.op_type == "Transpose";
    r.channels_last_nodes += IsChannelsLast(n);
  }
  std::map<std::string, Tensor> feeds;
  for (int in : g.inputs) feeds[g.value(in).name] = Rand(g.value(in).shape, 7);
  Status st = (*ex)->Run(feeds, &r.outs);
  EXPECT_TRUE(st.ok()) << st.message();
  return r;
}

TEST(ChannelsLast, SameResultsAsChannelsFirstTransposesOnlyAtTheEdges) {
  Graph g = MakeGraph();
  const Result plain = RunGraph(g, false, false, 1);
  const Result last = RunGraph(g, true, true, 1);
  if (last.channels_last_nodes == 0) GTEST_SKIP() << "oneDNN's channels-last convolutions are off here";
  // Four convs, MaxPool, AveragePool, GlobalAveragePool carry the attribute (the Concat and the
  // element-wise ops need none); transposes: x in, out_cat out (for the output and the Softmax),
  // out_pool out.
  EXPECT_EQ(last.channels_last_nodes, 7);
  EXPECT_EQ(last.transposes, 3);
  ASSERT_EQ(plain.outs.size(), 3u);
  for (const auto& kv : plain.outs) {
    const Tensor& a = kv.second;
    const Tensor& b = last.outs.at(kv.first);
    ASSERT_EQ(a.shape(), b.shape()) << kv.first;
    double worst = 0;
    for (int64_t i = 0; i < a.numel(); ++i)
      worst = std::max(worst, std::fabs((double)a.data<float>()[i] - b.data<float>()[i]) /
                                  (1.0 + std::fabs(a.data<float>()[i])));
    EXPECT_LT(worst, 1e-5) << kv.first;
  }
  // Not degenerate: the pooled sigmoids vary.
  const Tensor& p = plain.outs.at("out_pool");
  float mn = 1, mx = 0;
  for (int64_t i = 0; i < p.numel(); ++i) {
    mn = std::min(mn, p.data<float>()[i]);
    mx = std::max(mx, p.data<float>()[i]);
  }
  EXPECT_GT(mx - mn, 0.05f);
}

TEST(ChannelsLast, ResultsDoNotDependOnThreadCount) {
  Graph g = MakeGraph();
  const Result one = RunGraph(g, true, true, 1), two = RunGraph(g, true, true, 2), three = RunGraph(g, true, true, 3);
  for (const auto& kv : one.outs) {
    ASSERT_EQ(0, std::memcmp(kv.second.raw(), two.outs.at(kv.first).raw(), kv.second.nbytes())) << kv.first;
    ASSERT_EQ(0, std::memcmp(kv.second.raw(), three.outs.at(kv.first).raw(), kv.second.nbytes())) << kv.first;
  }
}

// Element-wise ops between convolutions stay in the region (no transposes around them):
// unary ones, a per-channel PRelu slope, a scalar Pow exponent, variadic Max/Sum; same results
// as channels-first, and a Gelu is fused into the first convolution instead.
TEST(ChannelsLast, ElementwiseOpsRunChannelsLastBetweenConvolutions) {
  struct Case {
    const char* op;
    int opset;
    AttrList attrs;
  };
  const Case cases[] = {{"Abs", 17, {}},  {"Neg", 17, {}},      {"Erf", 17, {}},   {"Exp", 17, {}},   {"Softplus", 17, {}},
                        {"Softsign", 17, {}}, {"Elu", 17, {}},  {"Selu", 17, {}},  {"Celu", 17, {}},  {"Mish", 18, {}},
                        {"ThresholdedRelu", 17, {}}, {"Floor", 17, {}}, {"Ceil", 17, {}}, {"Round", 17, {}},
                        {"Sign", 17, {}}, {"Sin", 17, {}},      {"Cos", 17, {}},   {"Shrink", 17, {{"lambd", FloatAttr(0.2f)}}},
                        {"Gelu", 20, {}}, {"PRelu", 17, {}},    {"Pow", 17, {}},   {"Max", 17, {}},   {"Sum", 17, {}}};
  for (const Case& c : cases) {
    const std::string op = c.op;
    Builder b;
    const int x = b.Input("x", {1, 8, 9, 10});
    const int c1 = b.Conv(x, 8, 16, 3, 1);
    std::vector<int> ins = {c1};
    if (op == "PRelu") ins.push_back(b.C("slope", Rand({16, 1, 1}, 5)));
    if (op == "Pow") ins.push_back(b.C("two", Tensor::Scalar(2.f)));
    if (op == "Max" || op == "Sum") ins.push_back(b.C("k", Rand({16, 1, 1}, 6)));
    const int o = AddTestValue(b.g, "act");
    b.g.AddNode(MakeNode(op, "act", ins, {o}, c.attrs, c.opset));
    const int c2 = b.Conv(b.Conv(o, 16, 8, 3, 3), 8, 8, 1, 7);  // three convs: worth a region
    b.g.outputs = {c2};
    ASSERT_TRUE(PrepareGraph(b.g).ok()) << op;
    const Result plain = RunGraph(b.g, false, false, 1);
    const Result last = RunGraph(b.g, true, true, 1);
    if (last.channels_last_nodes == 0 && &c == &cases[0]) GTEST_SKIP() << "oneDNN's channels-last convolutions are off here";
    EXPECT_EQ(last.channels_last_nodes, 3) << op;
    EXPECT_EQ(last.transposes, 2) << op << ": only x in and the output out";
    const Tensor& a = plain.outs.at(b.g.value(c2).name);
    const Tensor& l = last.outs.at(b.g.value(c2).name);
    double worst = 0, spread = 0;
    for (int64_t i = 0; i < a.numel(); ++i) {
      worst = std::max(worst, std::fabs((double)a.data<float>()[i] - l.data<float>()[i]) / (1.0 + std::fabs(a.data<float>()[i])));
      spread = std::max(spread, std::fabs((double)a.data<float>()[i] - a.data<float>()[0]));
    }
    // Floor/Ceil/Round/Sign/ThresholdedRelu/Shrink may flip where the two conv kernels round a
    // value near a step differently: a few elements, within the next conv's weights.
    const bool steps = op == "Floor" || op == "Ceil" || op == "Round" || op == "Sign" || op == "ThresholdedRelu" || op == "Shrink";
    EXPECT_LT(worst, steps ? 5.0 : 1e-4) << op;  // Exp amplifies the conv kernels' rounding
    EXPECT_GT(spread, 0.1) << op;
  }
}

// A BatchNormalization that no Conv absorbs (DenseNet's pre-activation BN after a Concat) runs
// channels-last inside the region and takes the ReLU after it as its epilogue: no transposes
// around it, no Relu node left, the channels-first results; channels-first (no region) the fused
// BN + ReLU gives the separate ops' bits; the thread count changes nothing.
TEST(ChannelsLast, BatchNormalizationRunsChannelsLastWithItsRelu) {
  Builder b;
  // 48 x 48: rows and planes enough for 3 threads to take separate parts of the BN.
  const int x = b.Input("x", {1, 8, 48, 48});
  const int c1 = b.Conv(x, 8, 16, 3, 1), c2 = b.Conv(x, 8, 8, 1, 2);
  const int cat = b.Op("Concat", {c1, c2}, "cat", {{"axis", IntAttr(1)}});
  Tensor var = Rand({24}, 13);
  for (int64_t i = 0; i < 24; ++i) var.data<float>()[i] = 0.5f + std::fabs(var.data<float>()[i]);
  const int bn = b.Op("BatchNormalization",
                      {cat, b.C("scale", Rand({24}, 10)), b.C("bias", Rand({24}, 11)), b.C("mean", Rand({24}, 12)),
                       b.C("var", var)},
                      "bn");
  // A per-channel step in its epilogue too.
  const int mul = b.Op("Mul", {bn, b.C("k", Rand({24, 1, 1}, 14))}, "mul");
  const int r = b.Op("Relu", {mul}, "relu");
  const int c3 = b.Conv(r, 24, 8, 3, 3);
  b.g.outputs = {c3};
  ASSERT_TRUE(PrepareGraph(b.g).ok());
  auto count = [](const Graph& g, const std::string& type, bool channels_last) {
    ExecutorOptions o;
    o.optimize = true;
    o.channels_last = channels_last;
    auto ex = Executor::Create(g, o);
    EXPECT_TRUE(ex.ok());
    int n = 0;
    for (const Node& node : (*ex)->graph().nodes)
      n += node.op_type == type && (type != "BatchNormalization" || channels_last == IsChannelsLast(node));
    return n;
  };
  EXPECT_EQ(count(b.g, "Relu", false), 0);
  EXPECT_EQ(count(b.g, "Relu", true), 0);
  EXPECT_EQ(count(b.g, "Mul", false), 0);
  EXPECT_EQ(count(b.g, "Mul", true), 0);
  const Result plain = RunGraph(b.g, false, false, 1);
  const Result first = RunGraph(b.g, true, false, 1);
  const Result last = RunGraph(b.g, true, true, 1), last3 = RunGraph(b.g, true, true, 3);
  const std::string out = b.g.value(c3).name;
  const Tensor& a = plain.outs.at(out);
  EXPECT_EQ(0, std::memcmp(a.raw(), first.outs.at(out).raw(), a.nbytes()));
  EXPECT_EQ(0, std::memcmp(last.outs.at(out).raw(), last3.outs.at(out).raw(), a.nbytes()));
  const Result first3 = RunGraph(b.g, true, false, 3);
  EXPECT_EQ(0, std::memcmp(first.outs.at(out).raw(), first3.outs.at(out).raw(), a.nbytes()));
  if (last.channels_last_nodes == 0) GTEST_SKIP() << "oneDNN's channels-last convolutions are off here";
  EXPECT_EQ(count(b.g, "BatchNormalization", true), 1);
  EXPECT_EQ(last.transposes, 2) << "only x in and the output out";
  double worst = 0, spread = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const float l = last.outs.at(out).data<float>()[i];
    worst = std::max(worst, std::fabs((double)a.data<float>()[i] - l) / (1.0 + std::fabs(a.data<float>()[i])));
    spread = std::max(spread, std::fabs((double)a.data<float>()[i] - a.data<float>()[0]));
  }
  EXPECT_LT(worst, 1e-5);
  EXPECT_GT(spread, 0.1);
}

TEST(ChannelsLast, OneConvolutionIsNotWorthARegion) {
  Builder b;
  const int x = b.Input("x", {1, 4, 10, 10});
  int c = b.Conv(x, 4, 8, 3, 1);
  c = b.Op("Relu", {c}, "r");
  const int mp = b.Op("MaxPool", {c}, "out", {{"kernel_shape", IntsAttr({2, 2})}});
  b.g.outputs = {mp};
  ASSERT_TRUE(PrepareGraph(b.g).ok());
  const Result r = RunGraph(b.g, true, true, 1);
  EXPECT_EQ(r.transposes, 0);
  EXPECT_EQ(r.channels_last_nodes, 0);
}

TEST(ChannelsLast, ForcedReferenceKernelsKeepChannelsFirst) {
  Graph g = MakeGraph();
  SetReferenceKernelsForced(true);
  const Result r = RunGraph(g, true, true, 1);
  const Result first = RunGraph(g, true, false, 1);
  SetReferenceKernelsForced(false);
  EXPECT_EQ(r.channels_last_nodes, 0);
  EXPECT_EQ(r.transposes, 0);
  for (const auto& kv : first.outs)
    EXPECT_EQ(0, std::memcmp(kv.second.raw(), r.outs.at(kv.first).raw(), kv.second.nbytes())) << kv.first;
}

// The analysis' executors (ExecutorOptions::Observing: exact_only, without any_layout) stay
// channels-first: the values they see are the plain graph's bits, as the analysis compares.
struct Recorder : Observer {
  std::map<int, Tensor> seen;
  std::map<int, int> calls;
  void OnValue(const Graph&, int id, const Tensor& t) override {
    seen[id] = t.Clone();
    ++calls[id];
  }
};

std::vector<int> FloatActivations(const Graph& g) {
  std::vector<int> watched;
  for (int v = 0; v < (int)g.values.size(); ++v)
    if (!g.value(v).IsConstant() && g.value(v).dtype == DType::kFloat32) watched.push_back(v);
  return watched;
}

TEST(ChannelsLast, ObservingExecutorsKeepThePlainBits) {
  Graph g = MakeGraph();
  const std::vector<int> watched = FloatActivations(g);
  std::map<std::string, Tensor> feeds{{"x", Rand(g.value(g.inputs[0]).shape, 7)}}, outs;
  Recorder plain, observed;
  {
    auto ex = Executor::Create(g, ExecutorOptions());
    ASSERT_TRUE(ex.ok()) << ex.status().message();
    ASSERT_TRUE((*ex)->Run(feeds, &outs, &plain).ok());
  }
  auto ex = Executor::Create(g, ExecutorOptions::Observing(2, watched));
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  for (const Node& n : (*ex)->graph().nodes) {
    EXPECT_FALSE(IsChannelsLast(n)) << n.Describe();
    EXPECT_NE(n.op_type, "Transpose");
  }
  outs.clear();
  ASSERT_TRUE((*ex)->Run(feeds, &outs, &observed).ok());
  for (int v : watched) {
    ASSERT_TRUE(observed.seen.count(v)) << g.value(v).name;
    const Tensor& a = plain.seen.at(v);
    const Tensor& b = observed.seen.at(v);
    ASSERT_EQ(a.nbytes(), b.nbytes()) << g.value(v).name;
    EXPECT_EQ(0, std::memcmp(a.raw(), b.raw(), a.nbytes())) << g.value(v).name;
  }
}

// Calibration's histogram runs (Observing with any_layout): the regions run, a watched value
// that a region keeps channels-last reaches the observer as it is ([N, H, W, C], under its own
// id, exactly once) with no Transpose added for it, and its values are the plain graph's up to
// the conv kernels' rounding; the bits do not depend on the thread count.
TEST(ChannelsLast, ObservingAnyLayoutSeesRegionValuesChannelsLast) {
  Graph g = MakeGraph();
  const std::vector<int> watched = FloatActivations(g);
  std::map<std::string, Tensor> feeds{{"x", Rand(g.value(g.inputs[0]).shape, 7)}}, outs;
  Recorder plain;
  {
    auto ex = Executor::Create(g, ExecutorOptions());
    ASSERT_TRUE(ex.ok()) << ex.status().message();
    ASSERT_TRUE((*ex)->Run(feeds, &outs, &plain).ok());
  }
  const Result optimised = RunGraph(g, true, true, 1);
  if (optimised.channels_last_nodes == 0) GTEST_SKIP() << "oneDNN's channels-last convolutions are off here";
  std::vector<Recorder> runs(3);
  for (int threads = 1; threads <= 3; ++threads) {
    auto ex = Executor::Create(g, ExecutorOptions::Observing(threads, watched, /*any_layout=*/true));
    ASSERT_TRUE(ex.ok()) << ex.status().message();
    int transposes = 0, regions = 0;
    for (const Node& n : (*ex)->graph().nodes) {
      transposes += n.op_type == "Transpose";
      regions += IsChannelsLast(n);
    }
    EXPECT_GT(regions, 0);
    // Only what the graph's own outputs and channels-first readers need, as in `dopt run`.
    EXPECT_LE(transposes, optimised.transposes);
    outs.clear();
    ASSERT_TRUE((*ex)->Run(feeds, &outs, &runs[(size_t)threads - 1]).ok());
  }
  const Recorder& observed = runs[0];
  int seen_last = 0;
  for (int v : watched) {
    const std::string& name = g.value(v).name;
    ASSERT_TRUE(observed.seen.count(v)) << name;
    EXPECT_EQ(observed.calls.at(v), 1) << name;
    const Tensor& want = plain.seen.at(v);
    Tensor got = observed.seen.at(v);
    if (got.shape() != want.shape()) {
      ASSERT_EQ(got.shape(), ToChannelsLast(want.shape())) << name;
      ++seen_last;
      const Shape& s = want.shape();
      Tensor back(DType::kFloat32, s);
      const float* src = got.data<float>();
      float* dst = back.data<float>();
      for (int64_t n = 0; n < s[0]; ++n)
        for (int64_t c = 0; c < s[1]; ++c)
          for (int64_t h = 0; h < s[2]; ++h)
            for (int64_t w = 0; w < s[3]; ++w)
              dst[((n * s[1] + c) * s[2] + h) * s[3] + w] = src[((n * s[2] + h) * s[3] + w) * s[1] + c];
      got = back;
    }
    float scale = 1e-6f, worst = 0.f;
    for (int64_t i = 0; i < want.numel(); ++i) scale = std::max(scale, std::fabs(want.data<float>()[i]));
    for (int64_t i = 0; i < want.numel(); ++i)
      worst = std::max(worst, std::fabs(want.data<float>()[i] - got.data<float>()[i]));
    EXPECT_LE(worst, 1e-4f * scale) << name;
    for (int t = 1; t < 3; ++t) {
      const Tensor& other = runs[(size_t)t].seen.at(v);
      ASSERT_EQ(other.nbytes(), observed.seen.at(v).nbytes()) << name;
      EXPECT_EQ(0, std::memcmp(other.raw(), observed.seen.at(v).raw(), other.nbytes())) << name << " threads " << t + 1;
    }
  }
  EXPECT_GT(seen_last, 3);  // the region's values, not transposed back for the observer
}

}  // namespace
}  // namespace dopt
