// PyTorch frontend/exporter glue without torch: nodes of a torch.onnx export renamed after their
// modules (parameter names and scope names), the Conv -> BatchNorm record, and the plan JSON
// the helper reads (BatchNorm folded or not, ops without a module refused).
#include <gtest/gtest.h>

#include "../ops/check_op.h"
#include "frontends/pytorch/pytorch_exporter.h"
#include "frontends/pytorch/pytorch_names.h"
#include "passes/pass.h"

namespace dopt {
namespace {

using optest::AddTestInput;
using optest::AddTestValue;

int AddTestNode(Graph& g, const std::string& name, const std::string& type, std::vector<int> in, const std::string& out) {
  Node n;
  n.name = name;
  n.op_type = type;
  n.inputs = std::move(in);
  n.outputs = {AddTestValue(g, out)};
  return g.AddNode(std::move(n));
}

Tensor Filled(Shape s, float v) {
  Tensor t(DType::kFloat32, s);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = v;
  return t;
}

// x -> conv (layer1.0.conv) -> bn (layer1.0.bn) -> relu -> conv again -> MatMul with a folded
// transposed Linear weight (layer1.0.fc) -> out.
Graph ExportLike() {
  Graph g;
  int x = AddTestInput(g, "x", DType::kFloat32, {1, 4, 2, 2});
  int w = AddTestValue(g, "layer1.0.conv.weight", Filled({4, 4, 1, 1}, 0.5f));
  std::vector<int> bn_in;
  for (const char* p : {"weight", "bias", "running_mean", "running_var"})
    bn_in.push_back(AddTestValue(g, std::string("layer1.0.bn.") + p, Filled({4}, 1.f)));
  int fcw = AddTestValue(g, "onnx::MatMul_7", Filled({2, 3}, 0.25f));
  AddTestNode(g, "/layer1/layer1.0/conv/Conv", "Conv", {x, w}, "c1");
  std::vector<int> in = {g.FindValue("c1")};
  in.insert(in.end(), bn_in.begin(), bn_in.end());
  AddTestNode(g, "/layer1/layer1.0/bn/BatchNormalization", "BatchNormalization", in, "b1");
  AddTestNode(g, "/layer1/layer1.0/relu/Relu", "Relu", {g.FindValue("b1")}, "r1");
  AddTestNode(g, "/layer1/layer1.0/conv_1/Conv", "Conv", {g.FindValue("r1"), w}, "c2");
  AddTestNode(g, "/layer1/layer1.0/fc/MatMul", "MatMul", {g.FindValue("c2"), fcw}, "out");
  g.outputs = {g.FindValue("out")};
  return g;
}

const std::map<std::string, std::string> kModules = {
    {"layer1.0.conv", "Conv2d"}, {"layer1.0.bn", "BatchNorm2d"}, {"layer1.0.fc", "Linear"}, {"layer1.0.relu", "ReLU"}};

TEST(PyTorchNames, NodesNamedAfterModules) {
  Graph g = ExportLike();
  EXPECT_EQ(NameNodesAfterModules(g, kModules), 4);
  std::vector<std::string> names;
  for (const Node& n : g.nodes) names.push_back(n.name);
  // Relu has no parameter: keeps its name. The second call of the conv module gets "#2"; the
  // MatMul's folded weight is mapped through its scope name.
  EXPECT_EQ(names, (std::vector<std::string>{"layer1.0.conv", "layer1.0.bn", "/layer1/layer1.0/relu/Relu",
                                             "layer1.0.conv#2", "layer1.0.fc"}));
  EXPECT_EQ(TorchMetadata(g, std::string(kTorchModuleOfNode) + "layer1.0.conv#2"), "layer1.0.conv");
  EXPECT_EQ(TorchMetadata(g, std::string(kTorchModuleOfNode) + "layer1.0.fc"), "layer1.0.fc");
  EXPECT_EQ(TorchMetadata(g, std::string(kTorchBatchNormAfter) + "layer1.0.conv"), "layer1.0.bn\tlayer1.0.bn");
  EXPECT_EQ(TorchMetadata(g, std::string(kTorchBatchNormAfter) + "layer1.0.conv#2"), "");
}

TEST(PyTorchNames, UnknownModulesLeaveNodesAlone) {
  Graph g = ExportLike();
  EXPECT_EQ(NameNodesAfterModules(g, {{"other", "Conv2d"}}), 0);
  EXPECT_EQ(g.nodes[0].name, "/layer1/layer1.0/conv/Conv");
}

// nn.MultiheadAttention (listed though not a leaf): in its scope only the input projection
// MatMul/Gemm on a folded slice of in_proj_weight takes its name, not a Reshape of a folded shape.
TEST(PyTorchNames, MultiheadAttentionProjectionsOnly) {
  Graph g;
  int x = AddTestInput(g, "x", DType::kFloat32, {2, 1, 4});
  int w = AddTestValue(g, "onnx::MatMul_9", Filled({4, 12}, 0.5f));
  int shape = AddTestValue(g, "onnx::Reshape_10", Filled({3}, 1.f));
  AddTestNode(g, "/enc/self_attn/MatMul", "MatMul", {x, w}, "p");
  AddTestNode(g, "/enc/self_attn/Reshape", "Reshape", {g.FindValue("p"), shape}, "r");
  AddTestNode(g, "/enc/self_attn/MatMul_1", "MatMul", {g.FindValue("r"), g.FindValue("r")}, "s");
  g.outputs = {g.FindValue("s")};
  EXPECT_EQ(NameNodesAfterModules(g, {{"enc.self_attn", "MultiheadAttention"}}), 1);
  EXPECT_EQ(g.nodes[0].name, "enc.self_attn");
  EXPECT_EQ(g.nodes[1].name, "/enc/self_attn/Reshape");
  EXPECT_EQ(g.nodes[2].name, "/enc/self_attn/MatMul_1");  // activation x activation: no weight
}

// A later call of the module: the export names its scope `self_attn_1`.
TEST(PyTorchNames, LaterCallOfAModule) {
  Graph g;
  int x = AddTestInput(g, "x", DType::kFloat32, {2, 1, 4});
  int w = AddTestValue(g, "onnx::MatMul_9", Filled({4, 12}, 0.5f));
  AddTestNode(g, "/enc/self_attn/MatMul", "MatMul", {x, w}, "p");
  AddTestNode(g, "/enc/self_attn_1/MatMul", "MatMul", {g.FindValue("p"), w}, "q");
  AddTestNode(g, "/enc/other_1/MatMul", "MatMul", {g.FindValue("q"), w}, "r");
  g.outputs = {g.FindValue("r")};
  EXPECT_EQ(NameNodesAfterModules(g, {{"enc.self_attn", "MultiheadAttention"}}), 2);
  EXPECT_EQ(g.nodes[0].name, "enc.self_attn");
  EXPECT_EQ(g.nodes[1].name, "enc.self_attn#2");
  EXPECT_EQ(g.nodes[2].name, "/enc/other_1/MatMul");
}

QuantizedOp Op(const std::string& node, const std::string& type, const std::string& weight) {
  QuantizedOp op;
  op.node = node;
  op.op_type = type;
  op.input.scales = {0.5f};
  op.input.zero_points = {-3};
  op.weight.tensor = weight;
  op.weight.axis = 0;
  op.weight.symmetric = true;
  op.weight.scales = {0.1f, 0.2f};
  op.weight.zero_points = {0, 0};
  return op;
}

TEST(PyTorchPlanJson, BatchNormFoldedOnlyWhenItsNodeIsGone) {
  Graph g = ExportLike();
  NameNodesAfterModules(g, kModules);
  QuantPlan plan;
  plan.ops = {Op("layer1.0.conv", "Conv", "layer1.0.conv.weight")};
  std::vector<std::pair<std::string, Tensor>> files;
  auto json = TorchPlanJson(g, plan, &files);
  ASSERT_TRUE(json.ok()) << json.status().message();
  EXPECT_NE(json->find("\"module\": \"layer1.0.conv\", \"fold_bn\": null"), std::string::npos) << *json;
  RemoveNodes(g, {1});  // what fold_batchnorm does to the BatchNormalization node
  files.clear();
  json = TorchPlanJson(g, plan, &files);
  ASSERT_TRUE(json.ok()) << json.status().message();
  EXPECT_NE(json->find("\"fold_bn\": \"layer1.0.bn\", \"weight_file\": \"weight_0.npy\""), std::string::npos) << *json;
  EXPECT_NE(json->find("\"scales\": [0.5], \"zero_points\": [-3]"), std::string::npos) << *json;
  EXPECT_NE(json->find("\"scales\": [0.100000001, 0.200000003], \"zero_points\": [0, 0], \"shape\": [4, 4, 1, 1]"),
            std::string::npos) << *json;
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].second.shape(), (Shape{4, 4, 1, 1}));
}

TEST(PyTorchPlanJson, OpWithoutModuleIsRefused) {
  Graph g = ExportLike();  // no renaming: no node has a module
  QuantPlan plan;
  plan.ops = {Op("/layer1/layer1.0/conv/Conv", "Conv", "layer1.0.conv.weight")};
  std::vector<std::pair<std::string, Tensor>> files;
  auto json = TorchPlanJson(g, plan, &files);
  ASSERT_FALSE(json.ok());
  EXPECT_EQ(json.status().message(),
            "quantized op '/layer1/layer1.0/conv/Conv' (Conv) runs no Conv/Linear module's weight, so the TorchScript "
            "model cannot quantize it; leave it in float with exclude_op in the config");
}

// A product of two activations has no module: the plan gives its scope and its position among
// the scope's products of two activations (graph order), and each scope's count.
TEST(PyTorchPlanJson, ActivationPairsByScopeAndPosition) {
  Graph g;
  int x = AddTestInput(g, "x", DType::kFloat32, {2, 4, 4});
  AddTestNode(g, "/enc/attn/MatMul", "MatMul", {x, x}, "s");
  AddTestNode(g, "/enc/attn/MatMul_1", "MatMul", {g.FindValue("s"), x}, "c");
  AddTestNode(g, "/MatMul", "MatMul", {g.FindValue("c"), x}, "t");
  g.outputs = {g.FindValue("t")};
  QuantizedOp op = Op("/enc/attn/MatMul_1", "MatMul", "x");
  op.weight_is_activation = true;
  op.weight.axis = -1;
  op.weight.scales = {0.25f};
  op.weight.zero_points = {4};
  QuantPlan plan;
  plan.ops = {op};
  std::vector<std::pair<std::string, Tensor>> files;
  auto json = TorchPlanJson(g, plan, &files);
  ASSERT_TRUE(json.ok()) << json.status().message();
  EXPECT_NE(json->find("\"pair_scopes\": {\"\": 1, \"enc.attn\": 2}"), std::string::npos) << *json;
  EXPECT_NE(json->find("\"pair\": true, \"scope\": \"enc.attn\", \"index\": 1, \"input_operand\": 0"),
            std::string::npos) << *json;
  EXPECT_NE(json->find("\"scales\": [0.25], \"zero_points\": [4]"), std::string::npos) << *json;
  EXPECT_TRUE(files.empty());
}

}  // namespace
}  // namespace dopt
