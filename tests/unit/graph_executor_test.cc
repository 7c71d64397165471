// Graph structure checks and executor behaviour (observers, lifetimes, threads), on small
// graphs built by hand from ops that are always present (Add, Relu).
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "common/thread_pool.h"
#include "executor/executor.h"
#include "ops/shape_inference.h"

namespace dopt {
namespace {

int AddInput(Graph& g, const std::string& name, Shape shape) {
  Value v;
  v.name = name;
  v.dtype = DType::kFloat32;
  v.rank_known = true;
  v.shape = std::move(shape);
  int id = g.AddValue(std::move(v));
  g.inputs.push_back(id);
  return id;
}

int AddNodeSimple(Graph& g, const std::string& type, std::vector<int> ins, const std::string& out) {
  Value v;
  v.name = out;
  int o = g.AddValue(std::move(v));
  Node n;
  n.name = out + "_node";
  n.op_type = type;
  n.opset_version = 13;
  n.inputs = std::move(ins);
  n.outputs = {o};
  g.AddNode(std::move(n));
  return o;
}

// x -> relu -> a ; a + x -> b ; relu(b) -> y   (nodes added out of order on purpose)
Graph Chain() {
  Graph g;
  int x = AddInput(g, "x", {2, 3});
  Value a;
  a.name = "a";
  int aid = g.AddValue(a);
  int b = AddNodeSimple(g, "Add", {aid, x}, "b");
  Node relu;
  relu.name = "relu_a";
  relu.op_type = "Relu";
  relu.inputs = {x};
  relu.outputs = {aid};
  g.AddNode(relu);
  int y = AddNodeSimple(g, "Relu", {b}, "y");
  g.outputs.push_back(y);
  return g;
}

TEST(Graph, TopoSortOrdersNodesAndInfersShapes) {
  Graph g = Chain();
  ASSERT_TRUE(PrepareGraph(g).ok());
  EXPECT_EQ(g.nodes[0].name, "relu_a");
  EXPECT_EQ(g.nodes[1].name, "b_node");
  const Value& y = g.value(g.FindValue("y"));
  EXPECT_TRUE(y.rank_known);
  EXPECT_EQ(y.shape, (Shape{2, 3}));
  EXPECT_EQ(y.dtype, DType::kFloat32);
}

TEST(Graph, CycleIsAnErrorNamingANode) {
  Graph g;
  AddInput(g, "x", {1});
  Value a, b;
  a.name = "a";
  b.name = "b";
  int ia = g.AddValue(a), ib = g.AddValue(b);
  Node n1, n2;
  n1.name = "n1";
  n1.op_type = "Relu";
  n1.inputs = {ib};
  n1.outputs = {ia};
  n2.name = "n2";
  n2.op_type = "Relu";
  n2.inputs = {ia};
  n2.outputs = {ib};
  g.AddNode(n1);
  g.AddNode(n2);
  g.outputs.push_back(ib);
  Status st = PrepareGraph(g);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("cycle"), std::string::npos) << st.message();
}

TEST(Graph, UnknownOpsAreListedByNameAndType) {
  Graph g;
  int x = AddInput(g, "x", {1});
  int y = AddNodeSimple(g, "FancyOp", {x}, "y");
  int z = AddNodeSimple(g, "SequenceInsert", {y}, "z");
  g.outputs.push_back(z);
  Status st = PrepareGraph(g);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kUnimplemented);
  EXPECT_NE(st.message().find("'y_node' (FancyOp)"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("'z_node' (SequenceInsert)"), std::string::npos) << st.message();
}

TEST(Graph, UndefinedInputIsAnError) {
  Graph g;
  AddInput(g, "x", {1});
  Value ghost;
  ghost.name = "ghost";
  int gid = g.AddValue(ghost);
  int y = AddNodeSimple(g, "Relu", {gid}, "y");
  g.outputs.push_back(y);
  Status st = PrepareGraph(g);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("ghost"), std::string::npos) << st.message();
}

TEST(Graph, WrongDtypeIsAnError) {
  Graph g;
  Value v;
  v.name = "x";
  v.dtype = DType::kInt64;
  v.rank_known = true;
  v.shape = {2};
  g.inputs.push_back(g.AddValue(v));
  int y = AddNodeSimple(g, "Relu", {g.inputs[0]}, "y");
  g.outputs.push_back(y);
  Status st = PrepareGraph(g);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("int64"), std::string::npos) << st.message();
}

class Recorder : public Observer {
 public:
  void OnValue(const Graph& g, int id, const Tensor& t) override {
    seen.push_back(g.value(id).name);
    first[g.value(id).name] = t.numel() ? t.data<float>()[0] : 0;
  }
  std::vector<std::string> seen;
  std::map<std::string, float> first;
};

TEST(Executor, RunsAndObservesEveryValue) {
  Graph g = Chain();
  ASSERT_TRUE(PrepareGraph(g).ok());
  auto ex = Executor::Create(g, {2});
  ASSERT_TRUE(ex.ok());
  std::map<std::string, Tensor> feeds{{"x", Tensor::FromFloats({2, 3}, {-1, 2, -3, 4, -5, 6})}};
  std::map<std::string, Tensor> outs;
  Recorder rec;
  RunStats stats;
  ASSERT_TRUE((*ex)->Run(feeds, &outs, &rec, &stats).ok());
  // y = relu(relu(x) + x)
  const float* y = outs["y"].data<float>();
  std::vector<float> want = {0, 4, 0, 8, 0, 12};
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(y[i], want[i]);
  EXPECT_EQ(rec.seen, (std::vector<std::string>{"x", "a", "b", "y"}));
  EXPECT_FLOAT_EQ(rec.first["b"], -1.f);
  EXPECT_GT(stats.peak_live_bytes, 0u);
}

TEST(Executor, FreesTensorsAfterLastUse) {
  // A long chain of Relus: with lifetimes the live set stays at two tensors.
  Graph g;
  int cur = AddInput(g, "x", {1024});
  for (int i = 0; i < 20; ++i) cur = AddNodeSimple(g, "Relu", {cur}, "r" + std::to_string(i));
  g.outputs.push_back(cur);
  ASSERT_TRUE(PrepareGraph(g).ok());
  auto ex = Executor::Create(g, {1});
  ASSERT_TRUE(ex.ok());
  std::map<std::string, Tensor> outs;
  RunStats stats;
  ASSERT_TRUE((*ex)->Run({{"x", Tensor(DType::kFloat32, {1024})}}, &outs, nullptr, &stats).ok());
  EXPECT_LE(stats.peak_live_bytes, 2u * 1024 * 4);
}

TEST(Executor, BadFeedsAreErrors) {
  Graph g = Chain();
  ASSERT_TRUE(PrepareGraph(g).ok());
  auto ex = Executor::Create(g, {1});
  ASSERT_TRUE(ex.ok());
  std::map<std::string, Tensor> outs;
  Status st = (*ex)->Run({{"x", Tensor(DType::kFloat32, {3, 2})}}, &outs);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("[2,3]"), std::string::npos) << st.message();
  st = (*ex)->Run({}, &outs);
  EXPECT_FALSE(st.ok());
  st = (*ex)->Run({{"x", Tensor(DType::kFloat32, {2, 3})}, {"nope", Tensor(DType::kFloat32, {1})}}, &outs);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("nope"), std::string::npos) << st.message();
}

TEST(ThreadPool, CoversRangeExactlyOnceForAnyThreadCount) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 7, 1000, 12345}) {
      std::vector<int> hits(n, 0);
      pool.ParallelFor(n, 3, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) hits[i]++;
      });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i], 1) << threads << " " << n << " " << i;
    }
  }
}

}  // namespace
}  // namespace dopt
