// The opset upgrade rules of the new Reduce* ops (axes attribute -> input 1 at 18) and of TopK
// (k attribute -> input 1 at 10): the graph computes the same before and after.
#include <gtest/gtest.h>

#include "check_op.h"
#include "ops/shape_inference.h"
#include "passes/upgrade_opset.h"

namespace dopt {
namespace {
using namespace optest;

struct Tiny {
  Graph g;
  int opset;
  explicit Tiny(int o) : opset(o) {
    g.info.format = "onnx";
    g.info.ir_version = 7;
    g.info.opsets = {{"", o}};
  }
  int Op(const std::string& type, std::vector<int> ins, std::vector<std::string> outs, AttrList attrs) {
    Node n;
    n.name = type + "_" + std::to_string(g.nodes.size());
    n.op_type = type;
    n.opset_version = opset;
    n.inputs = std::move(ins);
    n.attributes = std::move(attrs);
    n.source_index = (int)g.nodes.size();
    for (const auto& o : outs) {
      n.outputs.push_back(AddTestValue(g, o));
      g.outputs.push_back(n.outputs.back());
    }
    g.AddNode(std::move(n));
    return (int)g.nodes.size() - 1;
  }
};

void ExpectSameOutputs(const std::map<std::string, Tensor>& a, const std::map<std::string, Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    EXPECT_TRUE(TensorsNear(b.at(name), t, Tol::Exact(), name));
  }
}

TEST(ReduceFamilyUpgrade, AxesAttributeBecomesInputAt18) {
  Tiny b(13);
  int x = AddTestInput(b.g, "x", DType::kFloat32, {2, 3, 4});
  for (const char* op : {"ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"}) {
    b.Op(op, {x}, {std::string(op) + "_y"}, {{"axes", IntsAttr({-1, 1})}, {"keepdims", IntAttr(0)}});
    b.Op(op, {x}, {std::string(op) + "_all"}, {});
  }
  ASSERT_TRUE(PrepareGraph(b.g).ok());
  const std::map<std::string, Tensor> feeds = {{"x", Random({2, 3, 4}, 3, 0.5f, 1.5f)}};
  auto before = RunGraph(b.g, feeds);
  Graph up = b.g;
  Status st = UpgradeOpset(up, 18);
  ASSERT_TRUE(st.ok()) << st.message();
  ExpectSameOutputs(before, RunGraph(up, feeds));
  for (const Node& n : up.nodes) {
    EXPECT_FALSE(n.HasAttr("axes")) << n.Describe();
    const bool all = up.value(n.outputs[0]).name.find("_all") != std::string::npos;
    EXPECT_EQ(n.inputs.size(), all ? 1u : 2u) << n.Describe();
  }
}

TEST(TopKUpgrade, KAttributeBecomesInputAt10) {
  Tiny b(9);
  int x = AddTestInput(b.g, "x", DType::kFloat32, {3, 5});
  b.Op("TopK", {x}, {"v", "i"}, {{"k", IntAttr(2)}});
  ASSERT_TRUE(PrepareGraph(b.g).ok());
  Tensor in = Random({3, 5}, 9);
  in.data<float>()[1] = in.data<float>()[3] = 5;  // a tie: the lower index first
  const std::map<std::string, Tensor> feeds = {{"x", in}};
  auto before = RunGraph(b.g, feeds);
  EXPECT_EQ(Values<int64_t>(before.at("i"))[0], 1);
  EXPECT_EQ(Values<int64_t>(before.at("i"))[1], 3);
  Graph up = b.g;
  Status st = UpgradeOpset(up, 11);
  ASSERT_TRUE(st.ok()) << st.message();
  ExpectSameOutputs(before, RunGraph(up, feeds));
  const Node& n = up.nodes[0];
  EXPECT_FALSE(n.HasAttr("k"));
  ASSERT_EQ(n.inputs.size(), 2u);
  EXPECT_EQ(up.value(n.inputs[1]).ConstantValue()->ToInt64Vector(), (std::vector<int64_t>{2}));
  EXPECT_TRUE(n.dirty);
}

}  // namespace
}  // namespace dopt
