// Every op that normalises an axis refuses a scalar (rank-0) input with an error naming the node,
// instead of indexing shape[axis] of an empty shape (the onnx_run fuzzer found ArgMin doing so).
#include <gtest/gtest.h>

#include "check_op.h"
#include "executor/executor.h"
#include "ops/shape_inference.h"

namespace dopt {
namespace {

struct Rank0Case {
  const char* op;
  int extra_inputs;  // constant int64 inputs after the scalar (indices, axes ...)
  AttrList attrs;
};

TEST(Rank0Axis, OpsWithAnAxisRefuseScalars) {
  const std::vector<Rank0Case> cases = {
      {"Softmax", 0, {}},
      {"LogSoftmax", 0, {}},
      {"Hardmax", 0, {}},
      {"Concat", 0, {{"axis", IntAttr(0)}}},
      {"Split", 0, {{"axis", IntAttr(0)}}},
      {"Gather", 1, {{"axis", IntAttr(0)}}},
      {"GatherElements", 1, {{"axis", IntAttr(0)}}},
      {"CumSum", 1, {}},
      {"Compress", 1, {{"axis", IntAttr(0)}}},
      {"LpNormalization", 0, {{"axis", IntAttr(0)}}},
      {"ArgMax", 0, {{"axis", IntAttr(0)}}},
      {"ArgMin", 0, {{"axis", IntAttr(0)}}},
      {"Unique", 0, {{"axis", IntAttr(0)}}},
      {"LayerNormalization", 0, {}},
  };
  for (const Rank0Case& c : cases) {
    Graph g;
    int x = optest::AddTestInput(g, "x", DType::kFloat32, {});
    std::vector<int> ins = {x};
    for (int i = 0; i < c.extra_inputs; ++i)
      ins.push_back(optest::AddTestValue(g, "k" + std::to_string(i), Tensor::FromInt64s({1}, {0})));
    if (std::string(c.op) == "LayerNormalization") ins.push_back(optest::AddTestValue(g, "scale", Tensor::FromFloats({}, {1.f})));
    int y = optest::AddTestValue(g, "y");
    g.AddNode(MakeNode(c.op, "n", ins, {y}, c.attrs));
    g.outputs = {y};
    Status st = PrepareGraph(g);
    if (st.ok()) {  // an axis given as an input (CumSum) is checked when the op runs
      auto ex = Executor::Create(g, ExecutorOptions{});
      ASSERT_TRUE(ex.ok()) << c.op << ": " << ex.status().message();
      std::map<std::string, Tensor> outs;
      st = (*ex)->Run({{"x", Tensor::FromFloats({}, {1.f})}}, &outs);
    }
    EXPECT_FALSE(st.ok()) << c.op;
    EXPECT_NE(st.message().find("'n'"), std::string::npos) << c.op << ": " << st.message();
  }
}

}  // namespace
}  // namespace dopt
