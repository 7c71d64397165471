// UpgradeOpset: each rewrite on a tiny graph. Every case runs the graph before (old
// semantics, as dopt's kernels implement them per opset) and after (new semantics) and checks
// the outputs are the same, plus the structure the ONNX writer will see.
#include <gtest/gtest.h>

#include "../ops/check_op.h"

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "executor/executor.h"
#include "ops/shape_inference.h"
#include "ir/graph_edit.h"
#include "passes/upgrade_opset.h"

namespace dopt {
namespace {

using optest::Random;
using optest::RunGraph;


struct Builder {
  Graph g;
  int opset;
  explicit Builder(int o) : opset(o) {
    g.info.format = "onnx";
    g.info.ir_version = 3;
    g.info.opsets = {{"", o}};
  }
  int Input(const std::string& name, Shape shape, DType dt = DType::kFloat32) {
    Value v;
    v.name = name;
    v.dtype = dt;
    v.rank_known = true;
    v.shape = std::move(shape);
    v.source_index = (int)g.inputs.size();
    int id = g.AddValue(std::move(v));
    g.inputs.push_back(id);
    return id;
  }
  int Const(const std::string& name, Tensor t) {
    Value v;
    v.name = name;
    v.dtype = t.dtype();
    v.rank_known = true;
    v.shape = t.shape();
    v.initializer = std::move(t);
    v.source_index = 0;
    return g.AddValue(std::move(v));
  }
  std::vector<int> Op(const std::string& type, std::vector<int> ins, std::vector<std::string> outs, AttrList attrs = {}) {
    Node n;
    n.name = type + "_" + std::to_string(g.nodes.size());
    n.op_type = type;
    n.opset_version = opset;
    n.inputs = std::move(ins);
    n.attributes = std::move(attrs);
    n.source_index = (int)g.nodes.size();
    std::vector<int> ids;
    for (const auto& o : outs) {
      Value v;
      v.name = o;
      ids.push_back(g.AddValue(std::move(v)));
    }
    n.outputs = ids;
    g.AddNode(std::move(n));
    return ids;
  }
  void Output(int id) { g.outputs.push_back(id); }
};

Tensor Iota(const Shape& s, float scale = 0.37f, float offset = -1.f) {
  Tensor t(DType::kFloat32, s);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = offset + scale * (float)((i * 7) % 11) + 0.01f * (float)i;
  return t;
}

void ExpectSame(const std::map<std::string, Tensor>& a, const std::map<std::string, Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& kv : a) {
    auto it = b.find(kv.first);
    ASSERT_NE(it, b.end()) << kv.first;
    const Tensor& x = kv.second;
    const Tensor& y = it->second;
    ASSERT_EQ(x.shape(), y.shape()) << kv.first;
    ASSERT_EQ(x.dtype(), y.dtype()) << kv.first;
    std::vector<double> xv = x.ToDoubleVector(), yv = y.ToDoubleVector();
    for (size_t i = 0; i < xv.size(); ++i)
      EXPECT_NEAR(xv[i], yv[i], 1e-6 * (1 + std::fabs(xv[i]))) << kv.first << "[" << i << "]";
  }
}

// Prepares `b.g`, runs it, upgrades a copy to `target`, runs that and compares; returns the
// upgraded graph.
Graph UpgradeAndCompare(Builder& b, const std::map<std::string, Tensor>& feeds, int target = 13) {
  Status st = PrepareGraph(b.g);
  EXPECT_TRUE(st.ok()) << st.message();
  auto before = RunGraph(b.g, feeds);
  Graph up = b.g;
  st = UpgradeOpset(up, target);
  EXPECT_TRUE(st.ok()) << st.message();
  auto after = RunGraph(up, feeds);
  ExpectSame(before, after);
  for (const Node& n : up.nodes) EXPECT_EQ(n.opset_version, target) << n.Describe();
  EXPECT_EQ(up.info.opsets, (std::vector<std::pair<std::string, int64_t>>{{"", target}}));
  return up;
}

const Node& NodeOf(const Graph& g, const std::string& type) {
  for (const Node& n : g.nodes)
    if (n.op_type == type) return n;
  static Node none;
  ADD_FAILURE() << "no " << type << " node";
  return none;
}

int CountOps(const Graph& g, const std::string& type) {
  int c = 0;
  for (const Node& n : g.nodes) c += n.op_type == type;
  return c;
}

std::vector<int64_t> ConstInts(const Graph& g, int id) {
  EXPECT_GE(id, 0);
  if (id < 0) return {};
  const Value& v = g.value(id);
  EXPECT_TRUE(v.initializer.has_value()) << v.name;
  EXPECT_TRUE(v.dirty) << v.name;
  EXPECT_EQ(v.source_index, -1) << v.name;
  return v.initializer ? v.initializer->ToInt64Vector() : std::vector<int64_t>{};
}

std::vector<double> ConstValues(const Graph& g, int id) {
  EXPECT_GE(id, 0);
  if (id < 0) return {};
  const Value& v = g.value(id);
  EXPECT_TRUE(v.initializer.has_value()) << v.name;
  return v.initializer ? v.initializer->ToDoubleVector() : std::vector<double>{};
}

TEST(UpgradeOpset, SoftmaxInnerAxisBecomesFlattenSoftmaxReshape) {
  Builder b(11);
  int x = b.Input("x", {2, 3, 4});
  int y = b.Op("Softmax", {x}, {"y"}, {{"axis", IntAttr(1)}})[0];
  b.Output(y);
  Graph up = UpgradeAndCompare(b, {{"x", Iota({2, 3, 4})}});
  EXPECT_EQ(CountOps(up, "Flatten"), 1);
  EXPECT_EQ(CountOps(up, "Reshape"), 1);
  EXPECT_EQ(CountOps(up, "Shape"), 1);
  const Node& sm = NodeOf(up, "Softmax");
  EXPECT_TRUE(sm.dirty);
  EXPECT_EQ(*sm.GetInt("axis", -99), 1);
  // The graph output keeps its name and is now the Reshape's.
  EXPECT_EQ(up.value(up.outputs[0]).name, "y");
  EXPECT_EQ(up.nodes[up.value(up.outputs[0]).producer].op_type, "Reshape");
  EXPECT_EQ(up.value(up.outputs[0]).shape, (Shape{2, 3, 4}));
  for (const Node& n : up.nodes) EXPECT_TRUE(n.dirty) << n.Describe();
}

TEST(UpgradeOpset, SoftmaxDefaultAxisGetsExplicitAxis) {
  Builder b(9);
  int x = b.Input("x", {3, 5});
  b.Output(b.Op("Softmax", {x}, {"y"})[0]);
  Graph up = UpgradeAndCompare(b, {{"x", Iota({3, 5})}});
  ASSERT_EQ(up.nodes.size(), 1u);
  EXPECT_EQ(*up.nodes[0].GetInt("axis", -99), 1);  // the 13 default (-1) is the same here, but be explicit
}

TEST(UpgradeOpset, SoftmaxLastAxisOnlyChangesVersion) {
  Builder b(11);
  int x = b.Input("x", {2, 3, 4});
  b.Output(b.Op("Softmax", {x}, {"y"}, {{"axis", IntAttr(-1)}})[0]);
  Graph up = UpgradeAndCompare(b, {{"x", Iota({2, 3, 4})}});
  ASSERT_EQ(up.nodes.size(), 1u);
  EXPECT_EQ(*up.nodes[0].GetInt("axis", 0), -1);
}

TEST(UpgradeOpset, SoftmaxWithTrailingOnesKeepsOneNode) {
  Builder b(7);
  int x = b.Input("x", {2, 5, 1, 1});
  b.Output(b.Op("Softmax", {x}, {"y"})[0]);  // axis 1 (the old default), as in SqueezeNet
  Graph up = UpgradeAndCompare(b, {{"x", Iota({2, 5, 1, 1})}});
  ASSERT_EQ(up.nodes.size(), 1u);
  EXPECT_EQ(*up.nodes[0].GetInt("axis", -99), 1);
  EXPECT_TRUE(up.nodes[0].dirty);
}

TEST(UpgradeOpset, Resize10NearestDownsampleRoundsUpAndMixedScalesSplit) {
  // dopt's own Resize-10 kernel rounds down here (see the report), so only the structure is
  // checked; the e2e test compares with ONNX Runtime.
  Builder b(10);
  int x = b.Input("x", {1, 1, 5, 7});
  int s1 = b.Const("s1", Tensor::FromFloats({4}, {1, 1, 0.6f, 0.45f}));
  int s2 = b.Const("s2", Tensor::FromFloats({4}, {1, 1, 0.5f, 2.f}));
  int d = b.Op("Resize", {x, s1}, {"d"})[0];
  b.Output(d);
  b.Output(b.Op("Resize", {x, s2}, {"m"})[0]);
  ASSERT_TRUE(PrepareGraph(b.g).ok());
  Status st = UpgradeOpset(b.g, 13);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(CountOps(b.g, "Resize"), 3);
  const Node& nd = b.g.nodes[b.g.value(d).producer];
  EXPECT_EQ(*nd.GetString("nearest_mode", ""), "ceil");
  const Node& up = b.g.nodes[b.g.value(b.g.FindValue("m")).producer];
  EXPECT_EQ(*up.GetString("nearest_mode", ""), "floor");
  EXPECT_EQ(ConstValues(b.g, up.inputs[2]), (std::vector<double>{1, 1, 1, 2}));
  const Node& down = b.g.nodes[b.g.value(up.inputs[0]).producer];
  EXPECT_EQ(*down.GetString("nearest_mode", ""), "ceil");
  EXPECT_EQ(ConstValues(b.g, down.inputs[2]), (std::vector<double>{1, 1, 0.5, 1}));
  EXPECT_EQ(b.g.value(b.g.FindValue("m")).shape, (Shape{1, 1, 2, 14}));
}

TEST(UpgradeOpset, SqueezeUnsqueezeAxesBecomeInputs) {
  Builder b(11);
  int x = b.Input("x", {2, 1, 3});
  int s = b.Op("Squeeze", {x}, {"s"}, {{"axes", IntsAttr({1})}})[0];
  int u = b.Op("Unsqueeze", {s}, {"u"}, {{"axes", IntsAttr({0, 3})}})[0];
  int s2 = b.Op("Squeeze", {u}, {"s2"})[0];  // no axes: all 1-dims, stays without input
  b.Output(u);
  b.Output(s2);
  Graph up = UpgradeAndCompare(b, {{"x", Iota({2, 1, 3})}});
  for (const Node& n : up.nodes) {
    EXPECT_FALSE(n.HasAttr("axes")) << n.Describe();
    if (n.outputs[0] == up.FindValue("s2")) {
      EXPECT_EQ(n.inputs.size(), 1u);
      EXPECT_FALSE(n.dirty);
    } else {
      ASSERT_EQ(n.inputs.size(), 2u);
      std::vector<int64_t> want = n.op_type == "Squeeze" ? std::vector<int64_t>{1} : std::vector<int64_t>{0, 3};
      EXPECT_EQ(ConstInts(up, n.inputs[1]), want);
      EXPECT_TRUE(n.dirty);
    }
  }
  EXPECT_EQ(up.value(up.FindValue("s2")).shape, (Shape{2, 3}));
}

TEST(UpgradeOpset, SplitAttrBecomesInput) {
  Builder b(11);
  int x = b.Input("x", {2, 6});
  auto outs = b.Op("Split", {x}, {"a", "b"}, {{"axis", IntAttr(1)}, {"split", IntsAttr({2, 4})}});
  b.Output(outs[0]);
  b.Output(outs[1]);
  Graph up = UpgradeAndCompare(b, {{"x", Iota({2, 6})}});
  const Node& n = NodeOf(up, "Split");
  EXPECT_FALSE(n.HasAttr("split"));
  ASSERT_EQ(n.inputs.size(), 2u);
  EXPECT_EQ(ConstInts(up, n.inputs[1]), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(up.value(up.FindValue("b")).shape, (Shape{2, 4}));
}

TEST(UpgradeOpset, ClipAttrsBecomeInputsOfTheInputType) {
  Builder b(7);
  int x = b.Input("x", {2, 5});
  int c1 = b.Op("Clip", {x}, {"c1"}, {{"min", FloatAttr(-0.5f)}, {"max", FloatAttr(1.25f)}})[0];
  int c2 = b.Op("Clip", {c1}, {"c2"}, {{"max", FloatAttr(1.0f)}})[0];  // min stays omitted
  b.Output(c2);
  Graph up = UpgradeAndCompare(b, {{"x", Iota({2, 5}, 0.5f, -2.f)}});
  const Node& n1 = up.nodes[up.value(up.FindValue("c1")).producer];
  const Node& n2 = up.nodes[up.value(up.FindValue("c2")).producer];
  ASSERT_EQ(n1.inputs.size(), 3u);
  EXPECT_EQ(ConstValues(up, n1.inputs[1]), (std::vector<double>{-0.5}));
  EXPECT_EQ(ConstValues(up, n1.inputs[2]), (std::vector<double>{1.25}));
  EXPECT_EQ(up.value(n1.inputs[1]).shape, Shape{});
  ASSERT_EQ(n2.inputs.size(), 3u);
  EXPECT_EQ(n2.inputs[1], -1);
  EXPECT_EQ(ConstValues(up, n2.inputs[2]), (std::vector<double>{1.0}));
  EXPECT_TRUE(n1.attributes.empty());
}

TEST(UpgradeOpset, ClipOnFloat16MakesFloat16Bounds) {
  Builder b(9);
  int x = b.Input("x", {4}, DType::kFloat16);
  b.Output(b.Op("Clip", {x}, {"y"}, {{"min", FloatAttr(0.f)}, {"max", FloatAttr(6.f)}})[0]);
  ASSERT_TRUE(PrepareGraph(b.g).ok());
  ASSERT_TRUE(UpgradeOpset(b.g, 13).ok());
  const Node& n = b.g.nodes[0];
  EXPECT_EQ(b.g.value(n.inputs[1]).dtype, DType::kFloat16);
  EXPECT_EQ(b.g.value(n.inputs[2]).dtype, DType::kFloat16);
}

TEST(UpgradeOpset, PadAttrsBecomeInputs) {
  Builder b(7);
  int x = b.Input("x", {1, 2, 3});
  int p = b.Op("Pad", {x}, {"p"}, {{"pads", IntsAttr({0, 1, 2, 0, 0, 1})}, {"value", FloatAttr(1.5f)}})[0];
  int r = b.Op("Pad", {p}, {"r"}, {{"mode", StringAttr("reflect")}, {"pads", IntsAttr({0, 0, 1, 0, 0, 1})}})[0];
  b.Output(r);
  Graph up = UpgradeAndCompare(b, {{"x", Iota({1, 2, 3})}});
  const Node& n1 = up.nodes[up.value(p).producer];
  const Node& n2 = up.nodes[up.value(r).producer];
  ASSERT_EQ(n1.inputs.size(), 3u);
  EXPECT_EQ(ConstInts(up, n1.inputs[1]), (std::vector<int64_t>{0, 1, 2, 0, 0, 1}));
  EXPECT_EQ(ConstValues(up, n1.inputs[2]), (std::vector<double>{1.5}));
  ASSERT_EQ(n2.inputs.size(), 2u);
  EXPECT_EQ(*n2.GetString("mode", ""), "reflect");
  EXPECT_FALSE(n2.HasAttr("pads"));
  EXPECT_EQ(up.value(r).shape, (Shape{1, 3, 8}));
}

TEST(UpgradeOpset, SliceAttrsBecomeInputs) {
  Builder b(9);
  int x = b.Input("x", {3, 8});
  int s = b.Op("Slice", {x}, {"s"}, {{"starts", IntsAttr({1, -5})}, {"ends", IntsAttr({100, -1})}, {"axes", IntsAttr({0, 1})}})[0];
  int t = b.Op("Slice", {s}, {"t"}, {{"starts", IntsAttr({0})}, {"ends", IntsAttr({1})}})[0];
  b.Output(t);
  Graph up = UpgradeAndCompare(b, {{"x", Iota({3, 8})}});
  const Node& n1 = up.nodes[up.value(s).producer];
  ASSERT_EQ(n1.inputs.size(), 4u);
  EXPECT_EQ(ConstInts(up, n1.inputs[1]), (std::vector<int64_t>{1, -5}));
  EXPECT_EQ(ConstInts(up, n1.inputs[2]), (std::vector<int64_t>{100, -1}));
  EXPECT_EQ(ConstInts(up, n1.inputs[3]), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(up.nodes[up.value(t).producer].inputs.size(), 3u);
  EXPECT_EQ(up.value(t).shape, (Shape{1, 4}));
}

TEST(UpgradeOpset, DropoutRatioBecomesInputAndUnusedMaskIsDropped) {
  Builder b(7);
  int x = b.Input("x", {2, 3});
  auto outs = b.Op("Dropout", {x}, {"y", "mask"}, {{"ratio", FloatAttr(0.25f)}});
  b.Output(outs[0]);
  Graph up = UpgradeAndCompare(b, {{"x", Iota({2, 3})}});
  const Node& n = NodeOf(up, "Dropout");
  EXPECT_EQ(n.outputs.size(), 1u);
  ASSERT_EQ(n.inputs.size(), 2u);
  EXPECT_EQ(ConstValues(up, n.inputs[1]), (std::vector<double>{0.25}));
  EXPECT_FALSE(n.HasAttr("ratio"));
}

TEST(UpgradeOpset, DropoutWithUsedMaskIsAnErrorNamingTheNode) {
  Builder b(7);
  int x = b.Input("x", {2, 3});
  auto outs = b.Op("Dropout", {x}, {"y", "mask"});
  b.Output(outs[0]);
  b.Output(outs[1]);
  ASSERT_TRUE(PrepareGraph(b.g).ok());
  Status st = UpgradeOpset(b.g, 13);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("Dropout_0"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("mask"), std::string::npos) << st.message();
}

TEST(UpgradeOpset, UpsampleAttrScalesBecomesResize) {
  Builder b(7);
  int x = b.Input("x", {1, 2, 2, 3});
  b.Output(b.Op("Upsample", {x}, {"y"}, {{"scales", FloatsAttr({1, 1, 2, 3})}})[0]);
  Graph up = UpgradeAndCompare(b, {{"x", Iota({1, 2, 2, 3})}});
  ASSERT_EQ(up.nodes.size(), 1u);
  const Node& n = up.nodes[0];
  EXPECT_EQ(n.op_type, "Resize");
  ASSERT_EQ(n.inputs.size(), 3u);
  EXPECT_EQ(n.inputs[1], -1);  // roi is optional at 13
  EXPECT_EQ(ConstValues(up, n.inputs[2]), (std::vector<double>{1, 1, 2, 3}));
  EXPECT_EQ(*n.GetString("mode", ""), "nearest");
  EXPECT_EQ(*n.GetString("coordinate_transformation_mode", ""), "asymmetric");
  EXPECT_EQ(*n.GetString("nearest_mode", ""), "floor");
  EXPECT_FALSE(n.HasAttr("scales"));
  EXPECT_EQ(up.value(up.outputs[0]).shape, (Shape{1, 2, 4, 9}));
}

TEST(UpgradeOpset, UpsampleLinearInputScalesBecomesResize) {
  Builder b(9);
  int x = b.Input("x", {1, 1, 3, 4});
  int sc = b.Const("sc", Tensor::FromFloats({4}, {1, 1, 2, 1.5f}));
  b.Output(b.Op("Upsample", {x, sc}, {"y"}, {{"mode", StringAttr("linear")}})[0]);
  Graph up = UpgradeAndCompare(b, {{"x", Iota({1, 1, 3, 4})}});
  const Node& n = up.nodes[0];
  EXPECT_EQ(n.op_type, "Resize");
  EXPECT_EQ(n.inputs[2], sc);
  EXPECT_EQ(*n.GetString("mode", ""), "linear");
  EXPECT_EQ(*n.GetString("coordinate_transformation_mode", ""), "asymmetric");
  EXPECT_FALSE(n.HasAttr("nearest_mode"));
}

TEST(UpgradeOpset, ScatterBecomesScatterElementsAt11) {
  // At 10 it stays Scatter; at 11 it is ScatterElements with the same inputs and axis.
  for (int target : {10, 11}) {
    Builder b(9);
    int x = b.Input("x", {3, 4});
    int idx = b.Const("idx", optest::Make<int64_t>(DType::kInt64, {2, 2}, {3, 0, -1, 1}));
    int upd = b.Const("upd", Tensor::FromFloats({2, 2}, {10, 20, 30, 40}));
    b.Output(b.Op("Scatter", {x, idx, upd}, {"y"}, {{"axis", IntAttr(1)}})[0]);
    Graph up = UpgradeAndCompare(b, {{"x", Iota({3, 4})}}, target);
    ASSERT_EQ(up.nodes.size(), 1u);
    EXPECT_EQ(up.nodes[0].op_type, target == 10 ? "Scatter" : "ScatterElements");
    EXPECT_EQ(up.nodes[0].inputs, (std::vector<int>{x, idx, upd}));
    EXPECT_EQ(*up.nodes[0].GetInt("axis", 0), 1);
  }
}

TEST(UpgradeOpset, Resize10To11GetsAnEmptyRoiTensor) {
  Builder b(10);
  int x = b.Input("x", {1, 1, 2, 2});
  int sc = b.Const("sc", Tensor::FromFloats({4}, {1, 1, 2, 2}));
  b.Output(b.Op("Resize", {x, sc}, {"y"}, {{"mode", StringAttr("nearest")}})[0]);
  Graph up = UpgradeAndCompare(b, {{"x", Iota({1, 1, 2, 2})}}, 11);
  const Node& n = up.nodes[0];
  ASSERT_EQ(n.inputs.size(), 3u);
  ASSERT_GE(n.inputs[1], 0);
  EXPECT_EQ(up.value(n.inputs[1]).shape, (Shape{0}));
  EXPECT_EQ(n.inputs[2], sc);
  EXPECT_EQ(up.info.ir_version, 6);
}

TEST(UpgradeOpset, BatchNormSpatialIsDropped) {
  Builder b(7);
  int x = b.Input("x", {1, 2, 2, 2});
  int s = b.Const("s", Tensor::FromFloats({2}, {1.5f, 0.5f}));
  int bb = b.Const("b", Tensor::FromFloats({2}, {0.1f, -0.2f}));
  int m = b.Const("m", Tensor::FromFloats({2}, {0.3f, 0.4f}));
  int v = b.Const("v", Tensor::FromFloats({2}, {2.f, 0.5f}));
  b.Output(b.Op("BatchNormalization", {x, s, bb, m, v}, {"y"}, {{"spatial", IntAttr(1)}, {"epsilon", FloatAttr(1e-3f)}})[0]);
  Graph up = UpgradeAndCompare(b, {{"x", Iota({1, 2, 2, 2})}}, 15);
  EXPECT_FALSE(up.nodes[0].HasAttr("spatial"));
  EXPECT_TRUE(up.nodes[0].HasAttr("epsilon"));
  EXPECT_EQ(up.info.ir_version, 8);
}

TEST(UpgradeOpset, BatchNormPerActivationIsAnError) {
  Builder b(7);
  int x = b.Input("x", {1, 2, 2});
  int s = b.Const("s", Tensor::FromFloats({2, 2}, {1, 1, 1, 1}));
  b.Output(b.Op("BatchNormalization", {x, s, s, s, s}, {"y"}, {{"spatial", IntAttr(0)}})[0]);
  Status st = UpgradeOpset(b.g, 13);  // not prepared: the check only needs initializer shapes
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("BatchNormalization_0"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("spatial"), std::string::npos) << st.message();
}

TEST(UpgradeOpset, UnchangedOpsOnlyGetTheNewVersionAndNewNamesAreUnique) {
  Builder b(8);
  int x = b.Input("x", {2, 3});
  b.Const("Unsqueeze_1_axes", Tensor::FromInt64s({1}, {7}));  // takes the name the rule wants
  int r = b.Op("Relu", {x}, {"r"})[0];
  b.Output(b.Op("Unsqueeze", {r}, {"u"}, {{"axes", IntsAttr({0})}})[0]);
  Graph up = UpgradeAndCompare(b, {{"x", Iota({2, 3})}});
  EXPECT_FALSE(up.nodes[0].dirty);
  const Node& u = NodeOf(up, "Unsqueeze");
  EXPECT_EQ(up.value(u.inputs[1]).name, "Unsqueeze_1_axes_1");
  EXPECT_EQ(ConstInts(up, u.inputs[1]), (std::vector<int64_t>{0}));
  EXPECT_EQ(up.info.ir_version, 7);
}

TEST(UpgradeOpset, ReduceMeanAxesBecomeInputAt18) {
  Builder b(13);
  int x = b.Input("x", {2, 3, 4});
  int m = b.Op("ReduceMean", {x}, {"m"}, {{"axes", IntsAttr({-1, 1})}, {"keepdims", IntAttr(0)}})[0];
  int all = b.Op("ReduceMean", {x}, {"all"})[0];  // no axes: every axis, stays without input
  b.Output(m);
  b.Output(all);
  Graph up = UpgradeAndCompare(b, {{"x", Iota({2, 3, 4})}}, 18);
  for (const Node& n : up.nodes) {
    EXPECT_FALSE(n.HasAttr("axes")) << n.Describe();
    if (n.outputs[0] == up.FindValue("all")) {
      EXPECT_EQ(n.inputs.size(), 1u);
    } else {
      ASSERT_EQ(n.inputs.size(), 2u);
      EXPECT_EQ(ConstInts(up, n.inputs[1]), (std::vector<int64_t>{-1, 1}));
      EXPECT_TRUE(n.dirty);
    }
  }
  EXPECT_EQ(up.value(up.FindValue("m")).shape, (Shape{2}));
  EXPECT_EQ(up.value(up.FindValue("all")).shape, (Shape{1, 1, 1}));
  EXPECT_EQ(up.info.ir_version, 8);
}

TEST(UpgradeOpset, ReduceMeanBefore18IsLeftAloneAt17) {
  Builder b(11);
  int x = b.Input("x", {2, 3});
  b.Output(b.Op("ReduceMean", {x}, {"m"}, {{"axes", IntsAttr({1})}})[0]);
  Graph up = UpgradeAndCompare(b, {{"x", Iota({2, 3})}}, 17);
  const Node& n = NodeOf(up, "ReduceMean");
  EXPECT_TRUE(n.HasAttr("axes"));
  EXPECT_EQ(n.inputs.size(), 1u);
}

// ReduceSum moved axes to an input at 13 (ReduceMean and ReduceMax at 18); no axes, or an
// empty list, reduces every axis before and after (noop_with_empty_axes defaults to 0).
TEST(UpgradeOpset, ReduceSumAxesBecomeInputAt13) {
  Builder b(11);
  int x = b.Input("x", {2, 3, 4});
  int s = b.Op("ReduceSum", {x}, {"s"}, {{"axes", IntsAttr({-1, 1})}, {"keepdims", IntAttr(0)}})[0];
  int all = b.Op("ReduceSum", {x}, {"all"})[0];
  int empty = b.Op("ReduceSum", {x}, {"empty"}, {{"axes", IntsAttr({})}})[0];
  b.Output(s);
  b.Output(all);
  b.Output(empty);
  Graph up = UpgradeAndCompare(b, {{"x", Iota({2, 3, 4})}}, 13);
  for (const Node& n : up.nodes) {
    EXPECT_FALSE(n.HasAttr("axes")) << n.Describe();
    EXPECT_FALSE(n.HasAttr("noop_with_empty_axes")) << n.Describe();
    if (n.outputs[0] == up.FindValue("s")) {
      ASSERT_EQ(n.inputs.size(), 2u);
      EXPECT_EQ(ConstInts(up, n.inputs[1]), (std::vector<int64_t>{-1, 1}));
      EXPECT_TRUE(n.dirty);
    } else {
      EXPECT_EQ(n.inputs.size(), 1u) << n.Describe();
    }
  }
  EXPECT_EQ(up.value(up.FindValue("s")).shape, (Shape{2}));
  EXPECT_EQ(up.value(up.FindValue("all")).shape, (Shape{1, 1, 1}));
  EXPECT_EQ(up.value(up.FindValue("empty")).shape, (Shape{1, 1, 1}));
}

TEST(UpgradeOpset, ReduceSumAt13AndReduceMaxBefore18AreLeftAlone) {
  Builder b(13);
  int x = b.Input("x", {2, 3});
  int axes = b.Const("axes", Tensor::FromInt64s({1}, {1}));
  b.Output(b.Op("ReduceSum", {x, axes}, {"s"})[0]);
  b.Output(b.Op("ReduceMax", {x}, {"m"}, {{"axes", IntsAttr({0})}})[0]);
  Graph up = UpgradeAndCompare(b, {{"x", Iota({2, 3})}}, 17);
  EXPECT_EQ(NodeOf(up, "ReduceSum").inputs.size(), 2u);
  EXPECT_FALSE(NodeOf(up, "ReduceSum").dirty);
  EXPECT_TRUE(NodeOf(up, "ReduceMax").HasAttr("axes"));
  EXPECT_EQ(NodeOf(up, "ReduceMax").inputs.size(), 1u);
}

TEST(UpgradeOpset, ReduceMaxAxesBecomeInputAt18) {
  Builder b(11);
  int x = b.Input("x", {2, 3, 4});
  int m = b.Op("ReduceMax", {x}, {"m"}, {{"axes", IntsAttr({0, 2})}})[0];
  int all = b.Op("ReduceMax", {x}, {"all"}, {{"keepdims", IntAttr(0)}})[0];
  b.Output(m);
  b.Output(all);
  Graph up = UpgradeAndCompare(b, {{"x", Iota({2, 3, 4})}}, 18);
  const Node* with_axes = nullptr;
  for (const Node& n : up.nodes) {
    EXPECT_FALSE(n.HasAttr("axes")) << n.Describe();
    if (n.outputs[0] == up.FindValue("m")) with_axes = &n;
    else EXPECT_EQ(n.inputs.size(), 1u) << n.Describe();
  }
  ASSERT_NE(with_axes, nullptr);
  ASSERT_EQ(with_axes->inputs.size(), 2u);
  EXPECT_EQ(ConstInts(up, with_axes->inputs[1]), (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(up.value(up.FindValue("m")).shape, (Shape{1, 3, 1}));
  EXPECT_EQ(up.value(up.FindValue("all")).shape, (Shape{}));
}

// The three Reduce ops chained, from opset 7 to 21: each gets its axes input.
TEST(UpgradeOpset, ReduceOpsFrom7To21) {
  Builder b(7);
  int x = b.Input("x", {2, 3, 4});
  int s = b.Op("ReduceSum", {x}, {"s"}, {{"axes", IntsAttr({1})}})[0];
  int m = b.Op("ReduceMax", {s}, {"m"}, {{"axes", IntsAttr({-1})}})[0];
  b.Output(b.Op("ReduceMean", {m}, {"y"}, {{"axes", IntsAttr({0})}})[0]);
  Graph up = UpgradeAndCompare(b, {{"x", Iota({2, 3, 4})}}, 21);
  for (const char* op : {"ReduceSum", "ReduceMax", "ReduceMean"}) {
    EXPECT_EQ(NodeOf(up, op).inputs.size(), 2u) << op;
    EXPECT_FALSE(NodeOf(up, op).HasAttr("axes")) << op;
  }
}

TEST(UpgradeOpset, SplitGetsNumOutputsAt18) {
  Builder b(11);
  int x = b.Input("x", {2, 6});
  auto eq = b.Op("Split", {x}, {"a", "b", "c"}, {{"axis", IntAttr(1)}});
  auto sz = b.Op("Split", {x}, {"d", "e"}, {{"axis", IntAttr(1)}, {"split", IntsAttr({1, 5})}});
  for (int id : eq) b.Output(id);
  for (int id : sz) b.Output(id);
  Graph up = UpgradeAndCompare(b, {{"x", Iota({2, 6})}}, 21);
  for (const Node& n : up.nodes) {
    EXPECT_FALSE(n.HasAttr("split")) << n.Describe();
    if (n.outputs.size() == 3) {
      EXPECT_EQ(n.inputs.size(), 1u);
      auto k = n.GetInt("num_outputs", -1);
      ASSERT_TRUE(k.ok());
      EXPECT_EQ(*k, 3);
    } else {
      EXPECT_FALSE(n.HasAttr("num_outputs"));
      ASSERT_EQ(n.inputs.size(), 2u);
      EXPECT_EQ(ConstInts(up, n.inputs[1]), (std::vector<int64_t>{1, 5}));
    }
  }
  EXPECT_EQ(up.value(up.FindValue("c")).shape, (Shape{2, 2}));
}

TEST(UpgradeOpset, To21KeepsResultsAndRaisesIrVersion) {
  Builder b(9);
  int x = b.Input("x", {1, 2, 4, 4});
  int w = b.Const("w", Iota({3, 2, 3, 3}, 0.1f, -0.5f));
  int c = b.Op("Conv", {x, w}, {"c"}, {{"pads", IntsAttr({1, 1, 1, 1})}})[0];
  int p = b.Op("AveragePool", {c}, {"p"}, {{"kernel_shape", IntsAttr({2, 2})}, {"strides", IntsAttr({2, 2})}})[0];
  int r = b.Op("Pad", {p}, {"r"}, {{"pads", IntsAttr({0, 0, 1, 0, 0, 0, 0, 1})}})[0];
  int m = b.Op("ReduceMean", {r}, {"m"}, {{"axes", IntsAttr({2, 3})}})[0];
  int f = b.Op("Flatten", {m}, {"f"})[0];
  int s = b.Op("Shape", {f}, {"s"})[0];
  b.Output(b.Op("Reshape", {f, s}, {"y"})[0]);
  Graph up = UpgradeAndCompare(b, {{"x", Iota({1, 2, 4, 4})}}, 21);
  EXPECT_EQ(up.info.ir_version, 10);
  EXPECT_EQ(NodeOf(up, "ReduceMean").inputs.size(), 2u);
  EXPECT_EQ(NodeOf(up, "Pad").inputs.size(), 2u);
}

TEST(UpgradeOpset, IrVersionFollowsTheTarget) {
  for (auto [target, ir] : std::vector<std::pair<int, int64_t>>{{17, 8}, {18, 8}, {19, 9}, {20, 9}, {21, 10}}) {
    Builder b(13);
    int x = b.Input("x", {2});
    b.Output(b.Op("Relu", {x}, {"y"})[0]);
    ASSERT_TRUE(PrepareGraph(b.g).ok());
    ASSERT_TRUE(UpgradeOpset(b.g, target).ok()) << target;
    EXPECT_EQ(b.g.info.ir_version, ir) << target;
  }
}

TEST(UpgradeOpset, RejectsBadTargetsAndNewerNodes) {
  Builder b(13);
  int x = b.Input("x", {2});
  b.Output(b.Op("Relu", {x}, {"y"})[0]);
  ASSERT_TRUE(PrepareGraph(b.g).ok());
  EXPECT_FALSE(UpgradeOpset(b.g, kUpgradeMaxOpset + 1).ok());
  EXPECT_FALSE(UpgradeOpset(b.g, 6).ok());
  Status st = UpgradeOpset(b.g, 11);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("Relu_0"), std::string::npos) << st.message();
  EXPECT_TRUE(UpgradeOpset(b.g, 13).ok());  // already there: nothing to do
  EXPECT_FALSE(b.g.nodes[0].dirty);
}

TEST(UpgradeOpset, OpWithoutRuleIsAnErrorNamingTheNode) {
  Builder b(9);
  int x = b.Input("x", {2});
  b.Output(b.Op("NoSuchOp", {x}, {"y"})[0]);
  Status st = UpgradeOpset(b.g, 13);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("NoSuchOp_0"), std::string::npos) << st.message();
  EXPECT_EQ(b.g.nodes[0].opset_version, 9);  // nothing touched
}

}  // namespace
}  // namespace dopt
