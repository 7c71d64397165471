// InsertQDQ: nodes and initializers it creates, int8 weights and int32 biases worked out by
// hand, one Q/DQ pair per shared activation, float16 models, opset errors.
#include <gtest/gtest.h>

#include "ir/graph_edit.h"

#include "../ops/check_op.h"

#include <cmath>

#include "executor/executor.h"
#include "frontends/onnx/onnx_frontend.h"
#include "ops/shape_inference.h"
#include "frontends/onnx/qdq_writer.h"

namespace dopt {
namespace {

int Count(const Graph& g, const std::string& type) {
  int n = 0;
  for (const Node& node : g.nodes) n += node.op_type == type;
  return n;
}


std::vector<double> InitValues(const Graph& g, const std::string& name) {
  int id = g.FindValue(name);
  if (id < 0 || !g.value(id).initializer) return {};
  return g.value(id).initializer->ToDoubleVector();
}

Tensor Floats(DType dt, const Shape& s, const std::vector<float>& v) {
  Tensor t = Tensor::FromFloats(s, v);
  return dt == DType::kFloat32 ? t : t.CastTo(dt);
}

// x [1,2,2,2] -> conv1 (w [3,2,1,1], b [3]) -> y1
//             -> conv2 (w2 [1,2,1,1])      -> y2
//             -> Relu                       -> r   (not quantized: keeps the float x)
Graph TwoConvs(DType dt = DType::kFloat32) {
  Graph g;
  auto add = [&](const std::string& n, std::optional<Tensor> init = std::nullopt) {
    return optest::AddTestValue(g, n, std::move(init));
  };
  optest::AddTestInput(g, "x", dt, {1, 2, 2, 2});
  int w = add("w", Floats(dt, {3, 2, 1, 1}, {1.25f, 1.75f, 100.f, -0.375f, -200.f, 0.5f}));
  int b = add("b", Floats(dt, {3}, {1.0f, -0.3f, 7.0f}));
  int w2 = add("w2", Floats(dt, {1, 2, 1, 1}, {0.75f, -0.25f}));
  int y1 = add("y1"), y2 = add("y2"), r = add("r");
  Node c1;
  c1.name = "conv1";
  c1.op_type = "Conv";
  c1.inputs = {g.inputs[0], w, b};
  c1.outputs = {y1};
  Node c2;
  c2.name = "conv2";
  c2.op_type = "Conv";
  c2.inputs = {g.inputs[0], w2};
  c2.outputs = {y2};
  Node relu;
  relu.name = "relu";
  relu.op_type = "Relu";
  relu.inputs = {g.inputs[0]};
  relu.outputs = {r};
  for (Node* n : {&c1, &c2, &relu}) n->opset_version = 13;
  g.AddNode(c1);
  g.AddNode(c2);
  g.AddNode(relu);
  g.outputs = {y1, y2, r};
  g.info.opsets = {{"", 13}};
  Status st = PrepareGraph(g);
  EXPECT_TRUE(st.ok()) << st.message();
  return g;
}

TensorQuant Act(const std::string& t, float s, int32_t z) {
  TensorQuant q;
  q.tensor = t;
  q.scales = {s};
  q.zero_points = {z};
  q.range_min = s * (-128 - z);
  q.range_max = s * (127 - z);
  return q;
}

QuantPlan TwoConvPlan() {
  QuantPlan p;
  QuantizedOp a;
  a.node = "conv1";
  a.op_type = "Conv";
  a.input = Act("x", 0.5f, 3);
  a.weight.tensor = "w";
  a.weight.symmetric = true;
  a.weight.axis = 0;
  a.weight.scales = {0.5f, 0.25f, 1.0f};
  a.weight.zero_points = {0, 0, 0};
  a.has_bias = true;
  a.bias.tensor = "b";
  a.bias.bits = 32;
  a.bias.axis = 0;
  a.bias.scales = {0.25f, 0.125f, 0.5f};  // 0.5 x weight scales
  a.bias.zero_points = {0, 0, 0};
  QuantizedOp c;
  c.node = "conv2";
  c.op_type = "Conv";
  c.input = Act("x", 0.5f, 3);
  c.weight.tensor = "w2";
  c.weight.symmetric = true;
  c.weight.axis = -1;  // per tensor
  c.weight.scales = {0.25f};
  c.weight.zero_points = {0};
  p.ops = {a, c};
  return p;
}

TEST(InsertQDQ, WeightsBiasAndSharedActivation) {
  Graph g = TwoConvs();
  Status st = InsertQDQ(g, TwoConvPlan());
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Count(g, "QuantizeLinear"), 1);    // x is shared by conv1 and conv2: one pair
  EXPECT_EQ(Count(g, "DequantizeLinear"), 4);  // x, w, w2, b
  EXPECT_EQ(Count(g, "Cast"), 0);

  // w / scale per output channel, ties to even, saturated:
  //   ch0 s=0.5:  1.25 -> 2.5 -> 2,   1.75 -> 3.5 -> 4
  //   ch1 s=0.25: 100 -> 400 -> 127,  -0.375 -> -1.5 -> -2
  //   ch2 s=1:    -200 -> -128,       0.5 -> 0
  EXPECT_EQ(InitValues(g, "w_quantized"), (std::vector<double>{2, 4, 127, -2, -128, 0}));
  EXPECT_EQ(g.value(g.FindValue("w_quantized")).dtype, DType::kInt8);
  EXPECT_EQ(InitValues(g, "w_scale"), (std::vector<double>{0.5, 0.25, 1.0}));
  EXPECT_EQ(g.value(g.FindValue("w_scale")).shape, (Shape{3}));
  EXPECT_EQ(InitValues(g, "w_zero_point"), (std::vector<double>{0, 0, 0}));
  // Per tensor: a scalar scale. 0.75 / 0.25 = 3, -0.25 / 0.25 = -1.
  EXPECT_EQ(InitValues(g, "w2_quantized"), (std::vector<double>{3, -1}));
  EXPECT_EQ(g.value(g.FindValue("w2_scale")).shape, (Shape{}));
  // b / (0.5 x s_w): 1 / 0.25 = 4, -0.3 / 0.125 = -2.4 -> -2, 7 / 0.5 = 14.
  EXPECT_EQ(InitValues(g, "b_quantized"), (std::vector<double>{4, -2, 14}));
  EXPECT_EQ(g.value(g.FindValue("b_quantized")).dtype, DType::kInt32);
  EXPECT_EQ(InitValues(g, "b_scale"), (std::vector<double>{0.25, 0.125, 0.5}));
  // Activation: scalar scale and int8 zero point.
  EXPECT_EQ(InitValues(g, "x_scale"), (std::vector<double>{0.5}));
  EXPECT_EQ(InitValues(g, "x_zero_point"), (std::vector<double>{3}));
  EXPECT_EQ(g.value(g.FindValue("x_zero_point")).dtype, DType::kInt8);

  const Node* w_dq = FindNode(g, "w_DequantizeLinear");
  ASSERT_NE(w_dq, nullptr);
  EXPECT_EQ(*w_dq->GetInt("axis", -99), 0);
  EXPECT_FALSE(FindNode(g, "w2_DequantizeLinear")->HasAttr("axis"));

  const Node* c1 = FindNode(g, "conv1");
  const Node* c2 = FindNode(g, "conv2");
  const Node* relu = FindNode(g, "relu");
  EXPECT_EQ(g.value(c1->inputs[0]).name, "x_dequantized");
  EXPECT_EQ(g.value(c1->inputs[1]).name, "w_dequantized");
  EXPECT_EQ(g.value(c1->inputs[2]).name, "b_dequantized");
  EXPECT_EQ(c2->inputs[0], c1->inputs[0]);
  EXPECT_EQ(g.value(relu->inputs[0]).name, "x");  // the float consumer keeps the float tensor
  EXPECT_TRUE(c1->dirty);
  EXPECT_FALSE(relu->dirty);
  // The float weights are no longer read: dropped from the model.
  EXPECT_FALSE(g.value(g.FindValue("w")).initializer.has_value());
  EXPECT_FALSE(g.value(g.FindValue("b")).initializer.has_value());
  for (const Node& n : g.nodes)
    if (n.op_type == "QuantizeLinear" || n.op_type == "DequantizeLinear") {
      EXPECT_EQ(n.source_index, -1);
      EXPECT_EQ(n.opset_version, 13);
    }

  // Runs, and computes conv1 on the dequantized numbers.
  auto ex = Executor::Create(g, {1});
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  Tensor x = Tensor::FromFloats({1, 2, 2, 2}, {0.1f, 1.3f, -2.0f, 70.f, 0.74f, -0.26f, 5.0f, -80.f});
  std::map<std::string, Tensor> outs;
  st = (*ex)->Run({{"x", x}}, &outs);
  ASSERT_TRUE(st.ok()) << st.message();
  // x -> round(x / 0.5) + 3, clamped to int8, -> (q - 3) * 0.5
  std::vector<float> xd(8);
  for (int i = 0; i < 8; ++i) {
    float q = std::min(127.f, std::max(-128.f, std::nearbyint(x.data<float>()[i] / 0.5f) + 3));
    xd[i] = (q - 3) * 0.5f;
  }
  const float wd[3][2] = {{1.0f, 2.0f}, {31.75f, -0.5f}, {-128.f, 0.f}};
  const float bd[3] = {1.0f, -0.25f, 7.0f};
  const Tensor& y1 = outs["y1"];
  for (int o = 0; o < 3; ++o)
    for (int p = 0; p < 4; ++p)
      EXPECT_FLOAT_EQ(y1.data<float>()[o * 4 + p], wd[o][0] * xd[p] + wd[o][1] * xd[4 + p] + bd[o]) << o << "," << p;
  for (int p = 0; p < 4; ++p) EXPECT_FLOAT_EQ(outs["r"].data<float>()[p], std::max(0.f, x.data<float>()[p]));

  // Still writes and reloads.
  auto bytes = SerializeOnnxModel(g);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  auto again = LoadOnnxModelFromBytes(*bytes, "q.onnx", ".");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->FindValue("w"), -1);
  EXPECT_EQ(Count(*again, "DequantizeLinear"), 4);
}

TEST(InsertQDQ, BiasScaleComputedWhenThePlanOmitsIt) {
  Graph g = TwoConvs();
  QuantPlan p = TwoConvPlan();
  p.ops[0].bias.scales.clear();
  p.ops[0].bias.zero_points.clear();
  ASSERT_TRUE(InsertQDQ(g, p).ok());
  EXPECT_EQ(InitValues(g, "b_quantized"), (std::vector<double>{4, -2, 14}));
}

TEST(InsertQDQ, Float16ModelKeepsItsInterface) {
  Graph g = TwoConvs(DType::kFloat16);
  Status st = InsertQDQ(g, TwoConvPlan());
  ASSERT_TRUE(st.ok()) << st.message();
  // x: Cast -> Q -> DQ -> Cast; w, w2, b: DQ -> Cast.
  EXPECT_EQ(Count(g, "Cast"), 5);
  EXPECT_EQ(g.value(g.inputs[0]).dtype, DType::kFloat16);
  for (int o : g.outputs) EXPECT_EQ(g.value(o).dtype, DType::kFloat16);
  EXPECT_EQ(g.value(FindNode(g, "conv1")->inputs[0]).dtype, DType::kFloat16);
  EXPECT_EQ(InitValues(g, "w_quantized"), (std::vector<double>{2, 4, 127, -2, -128, 0}));
  auto ex = Executor::Create(g, {1});
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  std::map<std::string, Tensor> outs;
  st = (*ex)->Run({{"x", Tensor::FromFloats({1, 2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7}).CastTo(DType::kFloat16)}}, &outs);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(outs["y1"].dtype(), DType::kFloat16);
}

TEST(InsertQDQ, OpsetErrors) {
  Graph g = TwoConvs();
  g.info.opsets = {{"", 11}};
  Status st = InsertQDQ(g, TwoConvPlan());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("opset 13"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("conv1"), std::string::npos) << st.message();

  // The simulation does not need a valid ONNX opset.
  QdqOptions sim;
  sim.check_opset = false;
  EXPECT_TRUE(InsertQDQ(g, TwoConvPlan(), sim).ok());

  Graph g16 = TwoConvs();
  QuantPlan p = TwoConvPlan();
  p.ops[0].input.bits = 16;
  st = InsertQDQ(g16, p);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("opset 21"), std::string::npos) << st.message();
}

TEST(InsertQDQ, Int16ActivationsInTheSimulation) {
  Graph g = TwoConvs();
  QuantPlan p = TwoConvPlan();
  for (auto& op : p.ops) {
    op.input.bits = 16;
    op.input.scales = {0.001f};
    op.input.zero_points = {0};
  }
  p.ops[0].bias.scales.clear();
  QdqOptions sim;
  sim.check_opset = false;
  Status st = InsertQDQ(g, p, sim);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(g.value(g.FindValue("x_zero_point")).dtype, DType::kInt16);
  EXPECT_EQ(g.value(g.FindValue("x_quantized")).dtype, DType::kInt16);
}

// At opset 21 and later the 8-bit activations are written as uint8 with zero point z + 128
// (ONNX Runtime 1.32's optimizer cannot load int8 ones there): the same values, so the
// model computes exactly what its opset-13 int8 form computes; int16 activations stay int16.
TEST(InsertQDQ, Uint8ActivationsAtOpset21) {
  const Tensor x = Tensor::FromFloats({1, 2, 2, 2}, {-70, 1, 2.2f, 3, 4, 5.5f, 6, 90});
  auto run = [&](Graph& g) {
    auto ex = Executor::Create(g, {1});
    EXPECT_TRUE(ex.ok()) << ex.status().message();
    std::map<std::string, Tensor> outs;
    Status st = (*ex)->Run({{"x", x}}, &outs);
    EXPECT_TRUE(st.ok()) << st.message();
    return outs;
  };
  Graph g13 = TwoConvs();
  ASSERT_TRUE(InsertQDQ(g13, TwoConvPlan()).ok());
  EXPECT_EQ(g13.value(g13.FindValue("x_zero_point")).dtype, DType::kInt8);
  EXPECT_EQ(InitValues(g13, "x_zero_point"), (std::vector<double>{3}));

  Graph g21 = TwoConvs();
  g21.info.opsets = {{"", 21}};
  ASSERT_TRUE(InsertQDQ(g21, TwoConvPlan()).ok());
  EXPECT_EQ(g21.value(g21.FindValue("x_zero_point")).dtype, DType::kUInt8);
  EXPECT_EQ(g21.value(g21.FindValue("x_quantized")).dtype, DType::kUInt8);
  EXPECT_EQ(InitValues(g21, "x_zero_point"), (std::vector<double>{131}));
  EXPECT_EQ(g21.value(g21.FindValue("w_zero_point")).dtype, DType::kInt8);  // weights stay int8
  // -70 / 0.5 + 3 saturates at -128 (int8) and 0 (uint8); 90 at 127 and 255: the same values.
  auto a = run(g13), b = run(g21);
  for (const char* y : {"y1", "y2", "r"}) {
    EXPECT_EQ(a[y].ToDoubleVector(), b[y].ToDoubleVector()) << y;
  }

  Graph g16 = TwoConvs();
  g16.info.opsets = {{"", 21}};
  QuantPlan p = TwoConvPlan();
  p.ops[1].input = Act("x", 0.001f, 0);
  p.ops[1].input.bits = 16;
  ASSERT_TRUE(InsertQDQ(g16, p).ok());
  int u8 = 0, i16 = 0;
  for (const Value& v : g16.values) {
    if (!v.initializer || v.name.find("zero_point") == std::string::npos || v.name.rfind("x", 0) != 0) continue;
    u8 += v.dtype == DType::kUInt8;
    i16 += v.dtype == DType::kInt16;
  }
  EXPECT_EQ(u8, 1);
  EXPECT_EQ(i16, 1);
}

TEST(InsertQDQ, BadPlans) {
  {
    Graph g = TwoConvs();
    QuantPlan p = TwoConvPlan();
    p.ops[0].node = "nope";
    Status st = InsertQDQ(g, p);
    EXPECT_NE(st.message().find("'nope'"), std::string::npos) << st.message();
  }
  {
    Graph g = TwoConvs();
    QuantPlan p = TwoConvPlan();
    p.ops[0].weight.scales = {0.5f, 0.25f};
    p.ops[0].weight.zero_points = {0, 0};
    Status st = InsertQDQ(g, p);
    EXPECT_NE(st.message().find("3 channel(s)"), std::string::npos) << st.message();
  }
  {
    Graph g = TwoConvs();
    QuantPlan p = TwoConvPlan();
    p.ops[1].weight.scales = {0.f};
    Status st = InsertQDQ(g, p);
    EXPECT_NE(st.message().find("not a positive finite number"), std::string::npos) << st.message();
  }
  {
    Graph g = TwoConvs();
    QuantPlan p = TwoConvPlan();
    p.ops[1].op_type = "Gemm";
    Status st = InsertQDQ(g, p);
    EXPECT_NE(st.message().find("is Gemm"), std::string::npos) << st.message();
  }
}

}  // namespace
}  // namespace dopt
