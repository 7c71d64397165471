// fold_constants: every value computable from model constants alone becomes an initializer
// (Constant, Identity, Cast of float16, Reshape, Transpose, DequantizeLinear of int8, ...), the
// nodes that computed it go, outputs are unchanged, and what must stay stays: a graph input
// with an initializer (user-overridable), nodes producing graph outputs, values over the limit.
// An ONNX round trip through the writer keeps the result valid.
#include <gtest/gtest.h>

#include "../ops/check_op.h"

#include <cmath>

#include "frontends/onnx/onnx_frontend.h"
#include "ir/graph_edit.h"
#include "ops/shape_inference.h"
#include "passes/fold_constants.h"
#include "quant/mark_quantizable.h"
#include "quant/prepare.h"
#include "quant/quant_selection.h"

namespace dopt {
namespace {

using optest::AddTestInput;
using optest::AddTestValue;
using optest::Random;
using optest::RunGraph;

double MaxAbsDiff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.numel(), b.numel());
  double m = 0;
  for (int64_t i = 0; i < a.numel() && i < b.numel(); ++i)
    m = std::max(m, (double)std::fabs(a.data<float>()[i] - b.data<float>()[i]));
  return m;
}

int Out(Graph& g, const std::string& name) { return AddTestValue(g, name); }

void Add(Graph& g, const std::string& type, const std::string& name, std::vector<int> ins, std::vector<int> outs,
         AttrList attrs = {}) {
  Node n = MakeNode(type, name, std::move(ins), std::move(outs), std::move(attrs), 13);
  n.dirty = false;
  g.AddNode(std::move(n));
}

// x[1,3,4,4] -> Conv(W = Constant node, B = Identity(b)) -> Relu -> Conv(W = Identity of the
// first weight, B = b) -> Flatten -> Gemm(W = Transpose(Reshape(Constant, Constant shape)),
// C = DequantizeLinear(int8)) -> MatMul(W = Cast(float16 initializer)) -> y
Graph PaddleLikeGraph() {
  Graph g;
  g.info.opsets = {{"", 13}};
  int x = AddTestInput(g, "x", DType::kFloat32, {1, 3, 4, 4});
  int w1 = Out(g, "conv1.w"), b1 = Out(g, "conv1.b"), c1 = Out(g, "c1"), r1 = Out(g, "r1");
  Add(g, "Constant", "w1_const", {}, {w1}, {{"value", TensorAttr(Random({3, 3, 3, 3}, 1))}});
  int b = AddTestValue(g, "b", Random({3}, 2));
  Add(g, "Identity", "b_copy", {b}, {b1});
  Add(g, "Conv", "conv1", {x, w1, b1}, {c1}, {{"pads", IntsAttr({1, 1, 1, 1})}});
  Add(g, "Relu", "relu", {c1}, {r1});
  int w2 = Out(g, "conv2.w"), c2 = Out(g, "c2"), f = Out(g, "flat");
  Add(g, "Identity", "w_shared", {w1}, {w2});
  Add(g, "Conv", "conv2", {r1, w2, b}, {c2}, {{"pads", IntsAttr({1, 1, 1, 1})}});
  Add(g, "Flatten", "flatten", {c2}, {f});
  int flat_w = Out(g, "fc.flat"), shape = Out(g, "fc.shape"), kn = Out(g, "fc.kn"), fw = Out(g, "fc.w");
  Add(g, "Constant", "fcw_const", {}, {flat_w}, {{"value", TensorAttr(Random({48 * 5}, 3))}});
  Add(g, "Constant", "shape_const", {}, {shape}, {{"value", TensorAttr(Tensor::FromInt64s({2}, {48, 5}))}});
  Add(g, "Reshape", "fc_reshape", {flat_w, shape}, {kn});
  Add(g, "Transpose", "fc_transpose", {kn}, {fw}, {{"perm", IntsAttr({1, 0})}});
  Tensor q(DType::kInt8, {5});
  for (int i = 0; i < 5; ++i) q.data<int8_t>()[i] = (int8_t)(i * 20 - 40);
  int bq = AddTestValue(g, "fc.bq", q), bs = AddTestValue(g, "fc.bs", Tensor::Scalar(0.01f));
  int fb = Out(g, "fc.b"), h = Out(g, "h");
  Add(g, "DequantizeLinear", "fc_b_dq", {bq, bs}, {fb});
  Add(g, "Gemm", "fc", {f, fw, fb}, {h}, {{"transB", IntAttr(1)}});
  int w16 = AddTestValue(g, "mm.w16", Random({5, 2}, 4).CastTo(DType::kFloat16));
  int mw = Out(g, "mm.w"), y = Out(g, "y");
  Add(g, "Cast", "mm_cast", {w16}, {mw}, {{"to", IntAttr(1)}});
  Add(g, "MatMul", "mm", {h, mw}, {y});
  g.outputs.push_back(y);
  return g;
}

int Count(const Graph& g, const std::string& type) {
  int n = 0;
  for (const Node& node : g.nodes) n += node.op_type == type;
  return n;
}

TEST(FoldConstants, FoldsEveryConstantSubGraphAndKeepsOutputs) {
  Graph g = PaddleLikeGraph();
  ASSERT_TRUE(PrepareGraph(g).ok());
  std::map<std::string, Tensor> feeds{{"x", Random({1, 3, 4, 4}, 9)}};
  auto before = RunGraph(g, feeds);
  PassManager pm;
  pm.Add(std::make_unique<FoldConstantsPass>());
  std::vector<PassReport> rep;
  Status st = pm.Run(g, &rep);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(rep.size(), 1u);
  EXPECT_EQ(rep[0].changes, 9);  // 3 Constant, 2 Identity, Reshape, Transpose, DequantizeLinear, Cast
  ASSERT_EQ(g.nodes.size(), 6u);  // Conv, Relu, Conv, Flatten, Gemm, MatMul
  for (const char* t : {"Constant", "Identity", "Reshape", "Transpose", "DequantizeLinear", "Cast"})
    EXPECT_EQ(Count(g, t), 0) << t;
  for (const char* name : {"conv1.w", "conv1.b", "conv2.w", "fc.w", "fc.b", "mm.w"}) {
    int id = g.FindValue(name);
    ASSERT_GE(id, 0) << name;
    const Value& v = g.value(id);
    ASSERT_TRUE(v.initializer.has_value()) << name;
    EXPECT_EQ(v.producer, -1) << name;
    EXPECT_TRUE(v.dirty) << name;
    EXPECT_EQ(v.initializer->dtype(), DType::kFloat32) << name;
  }
  EXPECT_EQ(g.value(g.FindValue("fc.w")).shape, (Shape{5, 48}));
  EXPECT_NEAR(g.value(g.FindValue("fc.b")).initializer->data<float>()[0], -0.4f, 1e-6);
  // Initializers only the dropped nodes read are gone; one that a kept node still reads stays.
  EXPECT_FALSE(g.value(g.FindValue("mm.w16")).initializer.has_value());
  EXPECT_FALSE(g.value(g.FindValue("fc.bq")).initializer.has_value());
  EXPECT_TRUE(g.value(g.FindValue("b")).initializer.has_value());
  auto after = RunGraph(g, feeds);
  EXPECT_LT(MaxAbsDiff(after.at("y"), before.at("y")), 1e-5);
  // Every weighted op is then quantizable.
  QuantSelection sel;
  PassManager mark;
  mark.Add(std::make_unique<MarkQuantizablePass>(&sel));
  ASSERT_TRUE(mark.Run(g).ok());
  EXPECT_EQ(sel.ops.size(), 4u);
  for (const auto& e : sel.excluded) ADD_FAILURE() << e.node << ": " << e.reason;
}

TEST(FoldConstants, Float16StaysFloat16) {
  Graph g;
  int x = AddTestInput(g, "x", DType::kFloat16, {2});
  int c = AddTestValue(g, "c", Tensor::FromFloats({2}, {1.5f, -2.25f}).CastTo(DType::kFloat16));
  int k = Out(g, "k"), y = Out(g, "y");
  Add(g, "Identity", "copy", {c}, {k});
  Add(g, "Add", "add", {x, k}, {y});
  g.outputs.push_back(y);
  ASSERT_TRUE(PrepareGraph(g).ok());
  FoldConstantsPass p;
  auto n = p.Run(g);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 1);
  const Value& v = g.value(k);
  ASSERT_TRUE(v.initializer.has_value());
  EXPECT_EQ(v.dtype, DType::kFloat16);
  EXPECT_EQ(v.initializer->dtype(), DType::kFloat16);
  EXPECT_EQ(v.initializer->CastTo(DType::kFloat32).data<float>()[1], -2.25f);
}

TEST(FoldConstants, LeavesOverridableInputsGraphOutputsAndLargeValues) {
  Graph g;
  int x = AddTestInput(g, "x", DType::kFloat32, {4});
  // A graph input with an initializer: a default the user may override, never a constant.
  int gain = AddTestInput(g, "gain", DType::kFloat32, {4});
  g.value(gain).initializer = Tensor::FromFloats({4}, {1, 2, 3, 4});
  int gk = Out(g, "gain_copy"), y1 = Out(g, "y1");
  Add(g, "Identity", "gain_identity", {gain}, {gk});
  Add(g, "Mul", "mul", {x, gk}, {y1});
  // A constant sub-graph whose result is a graph output: the node producing it stays.
  int c = AddTestValue(g, "c", Tensor::FromFloats({2}, {1, 2}));
  int out2 = Out(g, "y2");
  Add(g, "Identity", "to_output", {c}, {out2});
  // Over the limit (4 elements here): not folded.
  int big = AddTestValue(g, "big", Random({8}, 5));
  int bk = Out(g, "big_copy"), y3 = Out(g, "y3");
  Add(g, "Identity", "big_identity", {big}, {bk});
  Add(g, "Neg", "neg", {bk}, {y3});
  g.outputs = {y1, out2, y3};
  ASSERT_TRUE(PrepareGraph(g).ok());
  FoldConstantsPass p(/*max_elements=*/4);
  auto n = p.Run(g);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 0);
  EXPECT_EQ(g.nodes.size(), 5u);
  EXPECT_FALSE(g.value(gk).initializer.has_value());
  // Why a weighted op then stays float, in words: which node computes it, from which input.
  Graph h;
  int hx = AddTestInput(h, "x", DType::kFloat32, {1, 2});
  int hw = AddTestInput(h, "w_in", DType::kFloat32, {2, 2});
  int w = Out(h, "w"), hy = Out(h, "y");
  Add(h, "Neg", "negate_w", {hw}, {w});
  Add(h, "MatMul", "mm", {hx, w}, {hy});
  h.outputs = {hy};
  ASSERT_TRUE(PrepareGraph(h).ok());
  QuantSelection sel;
  PassManager mark;
  // (With activation pairs on, this MatMul would be quantized as one.)
  QuantSelectionOptions no_pairs;
  no_pairs.activation_pairs = false;
  mark.Add(std::make_unique<MarkQuantizablePass>(&sel, no_pairs));
  ASSERT_TRUE(mark.Run(h).ok());
  ASSERT_EQ(sel.excluded.size(), 1u);
  EXPECT_EQ(sel.excluded[0].reason,
            "no constant operand (activation x activation): operand 'w' is computed by node 'negate_w' (Neg) from the "
            "graph input 'w_in'; operand 'x' is a graph input");
}

TEST(FoldConstants, OnnxRoundTripKeepsTheModelValid) {
  // Written, read back (with source bytes and indices, as from a file), folded, written again.
  Graph built = PaddleLikeGraph();
  ASSERT_TRUE(PrepareGraph(built).ok());
  auto bytes = SerializeOnnxModel(built);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  auto g = LoadOnnxModelFromBytes(*bytes, "paddle_like.onnx", ".");
  ASSERT_TRUE(g.ok()) << g.status().message();
  std::map<std::string, Tensor> feeds{{"x", Random({1, 3, 4, 4}, 9)}};
  auto before = RunGraph(*g, feeds);
  std::vector<PassReport> rep;
  Status st = PrepareForQuantization(*g, &rep);
  ASSERT_TRUE(st.ok()) << st.message();
  auto again_bytes = SerializeOnnxModel(*g);
  ASSERT_TRUE(again_bytes.ok()) << again_bytes.status().message();
  auto again = LoadOnnxModelFromBytes(*again_bytes, "folded.onnx", ".");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->nodes.size(), 6u);
  for (const char* name : {"conv1.w", "conv1.b", "conv2.w", "fc.w", "fc.b", "mm.w", "b"}) {
    int id = again->FindValue(name);
    ASSERT_GE(id, 0) << name;
    EXPECT_TRUE(again->value(id).initializer.has_value()) << name;
  }
  auto after = RunGraph(*again, feeds);
  EXPECT_LT(MaxAbsDiff(after.at("y"), before.at("y")), 1e-5);
}

}  // namespace
}  // namespace dopt
