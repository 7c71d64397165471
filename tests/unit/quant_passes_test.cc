// The quantization passes on a small hand-built graph:
//   x [1,2,4,4] -> Conv(w, b) -> c -> Relu -> r -> Flatten -> f [1,32] -> Gemm(B, C, transB) -> g
//   g -> MatMul(M) -> m ; m x m (MatMul of two activations, unnamed) -> y
#include <gtest/gtest.h>

#include <map>

#include "ir/graph_edit.h"
#include "ops/shape_inference.h"
#include "quant/apply_exclusions.h"
#include "quant/compute_quant_params.h"
#include "passes/cut_graph.h"
#include "quant/mark_quantizable.h"
#include "quant/saturation.h"

namespace dopt {
namespace {

int Init(Graph& g, const std::string& name, Tensor t) { return AddInitializer(g, name, std::move(t)); }

int Out(Graph& g, const std::string& name) { return AddIntermediate(g, name); }

void AddNode(Graph& g, const std::string& name, const std::string& type, std::vector<int> ins, int out,
             std::vector<std::pair<std::string, int64_t>> ints = {}) {
  AttrList attrs;
  for (auto& [k, v] : ints) attrs.emplace_back(k, IntAttr(v));
  g.AddNode(MakeNode(type, name, std::move(ins), {out}, std::move(attrs), 13));
}

Tensor Filled(const Shape& s, float start, float step) {
  Tensor t(DType::kFloat32, s);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = start + step * (float)i;
  return t;
}

Graph MakeGraph() {
  Graph g;
  Value x;
  x.name = "x";
  x.dtype = DType::kFloat32;
  x.rank_known = true;
  x.shape = {-1, 2, 4, 4};
  g.inputs.push_back(g.AddValue(x));
  int w = Init(g, "conv.w", Filled({2, 2, 1, 1}, -1.f, 0.5f));  // channel 0 {-1,-0.5}, 1 {0,0.5}
  int b = Init(g, "conv.b", Tensor::FromFloats({2}, {0.1f, -0.2f}));
  int c = Out(g, "c"), r = Out(g, "r"), f = Out(g, "f"), gm = Out(g, "g"), m = Out(g, "m"), y = Out(g, "y");
  AddNode(g, "conv", "Conv", {g.inputs[0], w, b}, c);
  AddNode(g, "relu", "Relu", {c}, r);
  AddNode(g, "flatten", "Flatten", {r}, f, {{"axis", 1}});
  int B = Init(g, "fc.B", Filled({3, 32}, -0.5f, 0.01f));
  int C = Init(g, "fc.C", Tensor::FromFloats({3}, {1, 2, 3}));
  AddNode(g, "fc", "Gemm", {f, B, C}, gm, {{"transB", 1}});
  int M = Init(g, "mm.B", Filled({3, 4}, -1.f, 0.25f));
  AddNode(g, "mm", "MatMul", {gm, M}, m);
  int mt = Out(g, "mt");
  AddNode(g, "tr", "Transpose", {m}, mt);
  AddNode(g, "", "MatMul", {m, mt}, y);
  g.outputs = {y};
  return g;
}

const QuantCandidate* FindOp(const QuantSelection& s, const std::string& node) {
  for (const auto& c : s.ops)
    if (c.node == node) return &c;
  return nullptr;
}

TEST(QuantPasses, MarkQuantizableChoosesOpsAxesAndBiases) {
  Graph g = MakeGraph();
  ASSERT_TRUE(PrepareGraph(g).ok());
  QuantSelection sel;
  PassManager pm;
  pm.Add(std::make_unique<MarkQuantizablePass>(&sel));
  Status st = pm.Run(g);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(sel.ops.size(), 4u);
  const QuantCandidate* conv = FindOp(sel, "conv");
  ASSERT_TRUE(conv);
  EXPECT_EQ(conv->weight_axis, 0);
  EXPECT_EQ(conv->bias_input, 2);
  const QuantCandidate* fc = FindOp(sel, "fc");
  ASSERT_TRUE(fc);
  EXPECT_EQ(fc->weight_axis, 0);  // transB: B is [N, K]
  EXPECT_EQ(fc->bias_input, 2);
  const QuantCandidate* mm = FindOp(sel, "mm");
  ASSERT_TRUE(mm);
  EXPECT_EQ(mm->weight_axis, 1);  // last dim of B
  EXPECT_EQ(mm->bias_input, -1);
  // The activation x activation MatMul (attention-like m x m^T): both operands as activations,
  // and it was given a name.
  EXPECT_TRUE(sel.excluded.empty());
  const QuantCandidate* pair = nullptr;
  for (const auto& c : sel.ops)
    if (c.activation_pair) pair = &c;
  ASSERT_TRUE(pair);
  EXPECT_FALSE(pair->node.empty());
  EXPECT_EQ(pair->op_type, "MatMul");
  EXPECT_EQ(pair->weight_axis, -1);
  EXPECT_EQ(pair->bias_input, -1);
  EXPECT_EQ(conv->activation_pair, false);

  // Turned off (config quantize_activation_matmul: false, or a writer without it), it stays
  // float with the reason.
  Graph g2 = MakeGraph();
  ASSERT_TRUE(PrepareGraph(g2).ok());
  QuantSelection off;
  QuantSelectionOptions no_pairs;
  no_pairs.activation_pairs = false;
  no_pairs.activation_pairs_off_reason = "quantize_activation_matmul is false in the config";
  MarkQuantizablePass mark_off(&off, no_pairs);
  ASSERT_TRUE(mark_off.Run(g2).ok());
  ASSERT_EQ(off.ops.size(), 3u);
  ASSERT_EQ(off.excluded.size(), 1u);
  EXPECT_EQ(off.excluded[0].op_type, "MatMul");
  EXPECT_NE(off.excluded[0].reason.find("no constant operand (activation x activation), and quantize_activation_matmul "
                                        "is false in the config: "),
            std::string::npos)
      << off.excluded[0].reason;
}

TEST(QuantPasses, GemmWithBetaKeepsFloatBiasAndMatMulWithConstantA) {
  Graph g;
  Value x;
  x.name = "x";
  x.dtype = DType::kFloat32;
  x.rank_known = true;
  x.shape = {4, 2};
  g.inputs.push_back(g.AddValue(x));
  int A = Init(g, "A", Filled({3, 4}, 0.f, 0.1f));
  int y = Out(g, "y"), z = Out(g, "z");
  AddNode(g, "mm", "MatMul", {A, g.inputs[0]}, y);  // [3,4] x [4,2]
  int B = Init(g, "B", Filled({2, 5}, 0.f, 0.1f));
  int C = Init(g, "C", Filled({5}, 0.f, 1.f));
  AddNode(g, "fc", "Gemm", {y, B, C}, z);
  SetAttr(g.nodes.back(), "beta", FloatAttr(0.5f));
  g.outputs = {z};
  ASSERT_TRUE(PrepareGraph(g).ok());
  QuantSelection sel;
  MarkQuantizablePass mark(&sel);
  ASSERT_TRUE(mark.Run(g).ok());
  ASSERT_EQ(sel.ops.size(), 2u);
  const QuantCandidate* mm = FindOp(sel, "mm");
  EXPECT_EQ(mm->activation_input, 1);
  EXPECT_EQ(mm->weight_input, 0);
  EXPECT_EQ(mm->weight_axis, 0);  // rows of a constant A [M, K]
  const QuantCandidate* fc = FindOp(sel, "fc");
  EXPECT_EQ(fc->weight_axis, 1);  // B [K, N] without transB
  EXPECT_EQ(fc->bias_input, -1);  // beta != 1: C stays float
}

TEST(QuantPasses, ExclusionsByNodeNameAndByWeightName) {
  Graph g = MakeGraph();
  ASSERT_TRUE(PrepareGraph(g).ok());
  QuantSelection sel;
  PassManager pm;
  pm.Add(std::make_unique<MarkQuantizablePass>(&sel));
  ASSERT_TRUE(pm.Run(g).ok());
  ApplyExclusions(g, {"conv", "mm.B", "relu"}, &sel);
  ASSERT_EQ(sel.ops.size(), 2u);
  EXPECT_EQ(sel.ops[0].node, "fc");
  EXPECT_TRUE(sel.ops[1].activation_pair);
  std::map<std::string, std::string> why;
  for (const auto& e : sel.excluded) why[e.node] = e.reason;
  EXPECT_NE(why["conv"].find("exclude_op"), std::string::npos);
  EXPECT_NE(why["mm"].find("'mm.B'"), std::string::npos);
  EXPECT_EQ(why.count("relu"), 0u);  // not a quantized op: nothing to record
}

TEST(QuantPasses, ComputeParamsFromRanges) {
  Graph g = MakeGraph();
  ASSERT_TRUE(PrepareGraph(g).ok());
  QuantSelection sel;
  MarkQuantizablePass mark(&sel);
  ASSERT_TRUE(mark.Run(g).ok());
  std::map<std::string, FloatRange> ranges = {{"x", {-1.f, 3.f}}, {"f", {0.f, 6.f}}};  // "g" never observed
  QuantPlan plan;
  ASSERT_TRUE(ComputeQuantParams(g, sel, ranges, QuantParamOptions{}, &plan).ok());
  ASSERT_EQ(plan.ops.size(), 2u);
  const QuantizedOp& conv = plan.ops[0];
  EXPECT_EQ(conv.node, "conv");
  EXPECT_EQ(conv.input.tensor, "x");
  EXPECT_FLOAT_EQ(conv.input.scales[0], 4.f / 255);
  EXPECT_EQ(conv.input.zero_points[0], -64);
  EXPECT_EQ(conv.weight.tensor, "conv.w");
  EXPECT_EQ(conv.weight.axis, 0);
  EXPECT_FLOAT_EQ(conv.weight.scales[0], 1.f / 127);
  EXPECT_FLOAT_EQ(conv.weight.scales[1], 0.5f / 127);
  ASSERT_TRUE(conv.has_bias);
  EXPECT_EQ(conv.bias.tensor, "conv.b");
  EXPECT_FLOAT_EQ(conv.bias.scales[0], 4.f / 255 * (1.f / 127));
  EXPECT_FLOAT_EQ(conv.bias.scales[1], 4.f / 255 * (0.5f / 127));
  const QuantizedOp& fc = plan.ops[1];
  EXPECT_EQ(fc.node, "fc");
  EXPECT_EQ(fc.input.zero_points[0], -128);
  EXPECT_EQ(fc.weight.scales.size(), 3u);
  // mm's input was never observed: left in float with the reason; plus the act x act MatMul.
  ASSERT_EQ(plan.excluded.size(), 2u);
  bool found = false;
  for (const auto& e : plan.excluded) found |= e.node == "mm" && e.reason.find("not observed") != std::string::npos;
  EXPECT_TRUE(found);

  // Per tensor and 16-bit symmetric activations.
  QuantParamOptions o;
  o.per_channel = false;
  o.activation_bits = 16;
  QuantPlan p16;
  ASSERT_TRUE(ComputeQuantParams(g, sel, ranges, o, &p16).ok());
  EXPECT_EQ(p16.ops[0].weight.scales.size(), 1u);
  EXPECT_EQ(p16.ops[0].weight.axis, -1);
  EXPECT_EQ(p16.ops[0].input.bits, 16);
  EXPECT_EQ(p16.ops[0].input.zero_points[0], 0);
  EXPECT_FLOAT_EQ(p16.ops[0].input.scales[0], 3.f / 32767);
  EXPECT_EQ(p16.ops[0].bias.scales.size(), 1u);
}

TEST(QuantPasses, X86SaturationSafeLimitsWeightsAndMaxPairSum) {
  Graph g = MakeGraph();
  ASSERT_TRUE(PrepareGraph(g).ok());
  QuantSelection sel;
  MarkQuantizablePass mark(&sel);
  ASSERT_TRUE(mark.Run(g).ok());
  std::map<std::string, FloatRange> ranges = {{"x", {-1.f, 3.f}}, {"f", {0.f, 6.f}}};
  QuantPlan none;
  ASSERT_TRUE(ComputeQuantParams(g, sel, ranges, QuantParamOptions{}, &none).ok());
  EXPECT_EQ(none.x86_saturation_safe, "NONE");
  EXPECT_EQ(none.ops[0].weight_limit, 0);
  // conv.w channel 0 {-1, -0.5} -> q {-127, -64}: 255 * (127 + 64) = 48705 > 32767.
  EXPECT_EQ(MaxPairSum(g, none.ops[0]), 255 * (127 + 64));
  EXPECT_GT(MaxPairSum(g, none.ops[0]), kInt16Max);

  QuantParamOptions o;
  o.x86_saturation_safe = "FIRST_LAYER";
  QuantPlan first;
  ASSERT_TRUE(ComputeQuantParams(g, sel, ranges, o, &first).ok());
  EXPECT_EQ(first.x86_saturation_safe, "FIRST_LAYER");
  EXPECT_EQ(first.ops[0].weight_limit, 64);
  EXPECT_FLOAT_EQ(first.ops[0].weight.scales[0], 1.f / 64);
  EXPECT_FLOAT_EQ(first.ops[0].weight.scales[1], 0.5f / 64);
  EXPECT_FLOAT_EQ(first.ops[0].bias.scales[0], 4.f / 255 * (1.f / 64));  // bias follows
  EXPECT_EQ(first.ops[1].weight_limit, 0);
  EXPECT_FLOAT_EQ(first.ops[1].weight.scales[0], none.ops[1].weight.scales[0]);
  // q {-64, -32}: 255 * 96 = 24480, safe.
  EXPECT_EQ(MaxPairSum(g, first.ops[0]), 255 * 96);
  EXPECT_LE(MaxPairSum(g, first.ops[0]), kInt16Max);

  o.x86_saturation_safe = "ALL";
  QuantPlan all;
  ASSERT_TRUE(ComputeQuantParams(g, sel, ranges, o, &all).ok());
  for (const QuantizedOp& op : all.ops) {
    EXPECT_EQ(op.weight_limit, 64) << op.node;
    EXPECT_LE(MaxPairSum(g, op), 255 * 128) << op.node;
  }
  o.x86_saturation_safe = "SOME";
  QuantPlan bad;
  EXPECT_FALSE(ComputeQuantParams(g, sel, ranges, o, &bad).ok());
}

TEST(QuantPasses, CutGraphSetsShapesOutputsAndDropsNodes) {
  Graph g = MakeGraph();
  ASSERT_TRUE(PrepareGraph(g).ok());
  PassManager pm;
  pm.Add(std::make_unique<CutGraphPass>(std::vector<std::pair<std::string, Shape>>{{"x", {2, 2, 4, 4}}},
                                        std::vector<std::string>{"g:0"}));
  Status st = pm.Run(g);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(g.nodes.size(), 4u);  // conv, relu, flatten, fc
  ASSERT_EQ(g.outputs.size(), 1u);
  EXPECT_EQ(g.value(g.outputs[0]).name, "g");
  EXPECT_EQ(g.value(g.outputs[0]).shape, (Shape{2, 3}));
  EXPECT_EQ(g.value(g.inputs[0]).shape, (Shape{2, 2, 4, 4}));

  // An inner tensor as input: the graph starts there; x is no longer an input.
  Graph h = MakeGraph();
  ASSERT_TRUE(PrepareGraph(h).ok());
  CutGraphPass cut({{"f", {1, 32}}}, {});
  auto n = cut.Run(h);
  ASSERT_TRUE(n.ok()) << n.status().message();
  ASSERT_TRUE(PrepareGraph(h).ok());
  ASSERT_EQ(h.inputs.size(), 1u);
  EXPECT_EQ(h.value(h.inputs[0]).name, "f");
  EXPECT_EQ(h.nodes.size(), 4u);  // fc, mm, tr, matmul

  // Known dims must match.
  Graph k = MakeGraph();
  ASSERT_TRUE(PrepareGraph(k).ok());
  CutGraphPass bad({{"x", {1, 3, 4, 4}}}, {});
  auto e = bad.Run(k);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("'x'"), std::string::npos);
}

}  // namespace
}  // namespace dopt
