// If, Loop and Scan: sub-graphs that read outer-scope values, nested sub-graphs, tensor
// lifetimes across sub-graphs, passes that must keep what sub-graphs read, the ONNX writer's
// sub-graphs, and the errors (each naming the node). Whole graphs, through PrepareGraph and
// the executor (ops with sub-graphs do not run outside it, so CheckOp does not apply).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>

#include "check_op.h"
#include "common/limits.h"
#include "common/run_limits.h"
#include "executor/executor.h"
#include "frontends/onnx/onnx_frontend.h"
#include "ir/graph_edit.h"
#include "ops/shape_inference.h"
#include "passes/cut_graph.h"
#include "passes/fold_constants.h"

namespace dopt {
namespace {
using namespace optest;

Tensor Bool(bool b) {
  Tensor t(DType::kBool, {});
  t.data<uint8_t>()[0] = b;
  return t;
}

// Adds node `type` reading `ins` and writing a new value `out`; returns the value id.
int Op(Graph& g, const std::string& type, std::vector<int> ins, const std::string& out, AttrList attrs = {}) {
  int o = AddTestValue(g, out);
  g.AddNode(MakeNode(type, out + "_node", std::move(ins), {o}, std::move(attrs)));
  g.nodes.back().dirty = false;
  return o;
}

std::shared_ptr<Graph> NewSubgraph(const std::string& name) {
  auto g = std::make_shared<Graph>();
  g->name = name;
  g->is_subgraph = true;
  return g;
}

Attribute GraphAttr(std::shared_ptr<Graph> g) {
  Attribute a;
  a.kind = Attribute::Kind::kGraph;
  a.g = std::move(g);
  return a;
}

// A branch computing `type`(outer value `outer_name`, `outer2`): both names from the enclosing graph.
std::shared_ptr<Graph> Branch(const std::string& name, const std::string& type, const std::string& outer,
                              const std::string& outer2 = "") {
  auto b = NewSubgraph(name);
  std::vector<int> ins = {AddTestValue(*b, outer)};
  if (!outer2.empty()) ins.push_back(AddTestValue(*b, outer2));
  b->outputs = {Op(*b, type, ins, name + "_out")};
  return b;
}

std::vector<float> Floats(const Tensor& t) { return Values<float>(t); }

// c ? relu(x) + w : -relu(x), where relu(x) and w are read only inside the branches, and other
// nodes run between relu(x) and the If (so a freed relu(x) would be noticed).
Graph IfGraph() {
  Graph g;
  int c = AddTestInput(g, "c", DType::kBool, {});
  int x = AddTestInput(g, "x", DType::kFloat32, {2, 3});
  AddTestValue(g, "w", Tensor::FromFloats({3}, {10, 20, 30}));
  Op(g, "Relu", {x}, "r");
  int s = Op(g, "Sigmoid", {x}, "s");
  int m = Op(g, "Mul", {s, s}, "m");
  int y = AddTestValue(g, "y");
  g.AddNode(MakeNode("If", "the_if", {c}, {y},
                     {{"then_branch", GraphAttr(Branch("then", "Add", "r", "w"))},
                      {"else_branch", GraphAttr(Branch("else", "Neg", "r"))}}));
  int z = Op(g, "Add", {y, m}, "z");
  g.outputs = {z};
  return g;
}

TEST(ControlFlow, IfReadsOuterScopeAndKeepsItAlive) {
  Graph g = IfGraph();
  ASSERT_TRUE(PrepareGraph(g).ok());
  const Node* the_if = nullptr;
  for (const Node& n : g.nodes)
    if (n.op_type == "If") the_if = &n;
  ASSERT_NE(the_if, nullptr);
  ASSERT_EQ(the_if->implicit_inputs.size(), 2u);  // r and w
  EXPECT_EQ(g.value(g.FindValue("y")).shape, (Shape{2, 3}));  // both branches agree
  Tensor x = Tensor::FromFloats({2, 3}, {-1, 2, -3, 4, -5, 6});
  auto sig = [](float v) { return 1.f / (1.f + std::exp(-v)); };
  for (bool c : {true, false}) {
    auto out = RunGraph(g, {{"c", Bool(c)}, {"x", x}});
    ASSERT_TRUE(out.count("z"));
    std::vector<float> got = Floats(out["z"]);
    for (int i = 0; i < 6; ++i) {
      float xv = Floats(x)[i], r = std::max(xv, 0.f), m = sig(xv) * sig(xv);
      float want = (c ? r + (float)(10 * (i % 3 + 1)) : -r) + m;
      EXPECT_NEAR(got[i], want, 1e-5) << "c=" << c << " i=" << i;
    }
  }
}

TEST(ControlFlow, PassesKeepWhatSubgraphsRead) {
  // -w folds to a constant read only by a branch: it must stay an initializer; cutting the
  // graph at the outputs must keep relu(x), read only by a branch.
  Graph g = IfGraph();
  int w = g.FindValue("w");
  int nw = Op(g, "Neg", {w}, "nw");
  (void)nw;
  auto& then_g = *g.nodes[3].attributes[0].second.g;
  then_g.nodes[0].inputs[1] = AddTestValue(then_g, "nw");
  ASSERT_TRUE(PrepareGraph(g).ok());
  FoldConstantsPass fold;
  ASSERT_TRUE(fold.Run(g).ok());
  ASSERT_TRUE(PrepareGraph(g).ok());
  ASSERT_TRUE(g.value(g.FindValue("nw")).initializer.has_value());
  CutGraphPass cut({}, {"z"});
  ASSERT_TRUE(cut.Run(g).ok());
  ASSERT_TRUE(PrepareGraph(g).ok());
  Tensor x = Tensor::FromFloats({2, 3}, {-1, 2, -3, 4, -5, 6});
  auto out = RunGraph(g, {{"c", Bool(true)}, {"x", x}});
  ASSERT_TRUE(out.count("z"));
  auto sig = [](float v) { return 1.f / (1.f + std::exp(-v)); };
  EXPECT_NEAR(Floats(out["z"])[1], 2.f - 20.f + sig(2) * sig(2), 1e-5);
}

TEST(ControlFlow, ConstantCondIfIsInlined) {
  // cond is a constant: FoldConstantsPass replaces the If by its then branch (relu(x) + w),
  // whose nodes become top-level nodes (named after the If), with the same results.
  for (bool c : {true, false}) {
    Graph g = IfGraph();
    int cid = g.FindValue("c");
    g.inputs.erase(std::find(g.inputs.begin(), g.inputs.end(), cid));
    g.value(cid).initializer = Bool(c);
    ASSERT_TRUE(PrepareGraph(g).ok());
    Tensor x = Tensor::FromFloats({2, 3}, {-1, 2, -3, 4, -5, 6});
    auto before = RunGraph(g, {{"x", x}});
    FoldConstantsPass fold;
    auto changes = fold.Run(g);
    ASSERT_TRUE(changes.ok()) << changes.status().message();
    EXPECT_EQ(*changes, 1);
    Status st = PrepareGraph(g);
    ASSERT_TRUE(st.ok()) << st.message();
    for (const Node& n : g.nodes) EXPECT_NE(n.op_type, "If");
    bool found = false;
    for (const Node& n : g.nodes)
      if (n.op_type == (c ? "Add" : "Neg") && n.name.rfind("the_if/", 0) == 0) found = true;
    EXPECT_TRUE(found);
    auto after = RunGraph(g, {{"x", x}});
    EXPECT_EQ(Floats(after["z"]), Floats(before["z"]));
    auto bytes = SerializeOnnxModel(g);  // the inlined nodes are written like any new node
    ASSERT_TRUE(bytes.ok());
    auto back = LoadOnnxModelFromBytes(*bytes, "inlined.onnx", ".", {});
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(Floats(RunGraph(*back, {{"x", x}})["z"]), Floats(before["z"]));
  }
}

TEST(ControlFlow, IfErrorsNameTheNode) {
  {  // cond of two elements: the kernel's error
    Graph g = IfGraph();
    g.value(g.FindValue("c")).rank_known = false;
    ASSERT_TRUE(PrepareGraph(g).ok());
    auto ex = Executor::Create(g);
    ASSERT_TRUE(ex.ok());
    Tensor c2(DType::kBool, {2});
    std::map<std::string, Tensor> outs;
    Status st = (*ex)->Run({{"c", c2}, {"x", Random({2, 3}, 1)}}, &outs);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find("the_if"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("one element"), std::string::npos) << st.message();
  }
  {  // a float cond: the shape rule's error
    Graph g = IfGraph();
    g.value(g.FindValue("c")).dtype = DType::kFloat32;
    Status st = PrepareGraph(g);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find("the_if"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("bool"), std::string::npos) << st.message();
  }
  {  // a branch with two outputs for a node with one
    Graph g = IfGraph();
    Graph& else_g = *g.nodes[3].attributes[1].second.g;
    else_g.outputs.push_back(else_g.outputs[0]);
    Status st = PrepareGraph(g);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find("the_if"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("else_branch has 2 outputs"), std::string::npos) << st.message();
  }
  {  // an outer name nobody defines
    Graph g = IfGraph();
    Graph& else_g = *g.nodes[3].attributes[1].second.g;
    else_g.nodes[0].inputs[0] = AddTestValue(else_g, "nowhere");
    Status st = PrepareGraph(g);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find("the_if"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("nowhere"), std::string::npos) << st.message();
  }
}

// Loop (M = 4, cond from the body: i < 2 after the step) whose body holds an If reading the
// top-level w and the body's own carried value; scan output = the carried value each time.
Graph NestedLoopGraph() {
  Graph g;
  int m = AddTestInput(g, "M", DType::kInt64, {});
  int c = AddTestInput(g, "flip", DType::kBool, {});
  int a0 = AddTestInput(g, "a0", DType::kFloat32, {2});
  AddTestValue(g, "w", Tensor::FromFloats({2}, {1, 2}));
  (void)c;
  auto body = NewSubgraph("body");
  int it = AddTestInput(*body, "i", DType::kInt64, {});
  AddTestInput(*body, "cond_in", DType::kBool, {});
  AddTestInput(*body, "acc", DType::kFloat32, {2});
  int acc_new = AddTestValue(*body, "acc_new");
  int flip = AddTestValue(*body, "flip");  // outer: a top-level input
  body->AddNode(MakeNode("If", "inner_if", {flip}, {acc_new},
                         {{"then_branch", GraphAttr(Branch("then", "Sub", "acc", "w"))},
                          {"else_branch", GraphAttr(Branch("else", "Add", "acc", "w"))}}));
  int two = AddTestValue(*body, "two", Tensor::FromInt64s({}, {2}));
  int keep_going = Op(*body, "Less", {it, two}, "keep_going");
  int doubled = Op(*body, "Add", {acc_new, acc_new}, "doubled");
  body->outputs = {keep_going, acc_new, doubled};
  int cond = AddTestValue(g, "cond0", Bool(true));
  int final_acc = AddTestValue(g, "final"), scans = AddTestValue(g, "scans");
  g.AddNode(MakeNode("Loop", "the_loop", {m, cond, a0}, {final_acc, scans}, {{"body", GraphAttr(body)}}));
  g.outputs = {final_acc, scans};
  return g;
}

TEST(ControlFlow, LoopWithNestedIfAndScanOutputs) {
  Graph g = NestedLoopGraph();
  Status st = PrepareGraph(g);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(g.value(g.FindValue("final")).shape, (Shape{2}));
  EXPECT_EQ(g.value(g.FindValue("scans")).shape, (Shape{-1, 2}));
  ASSERT_EQ(g.nodes.back().implicit_inputs.size(), 2u);  // flip and w, through the inner If
  for (bool flip : {false, true}) {
    for (int64_t m : {int64_t{0}, int64_t{2}, int64_t{4}, INT64_MAX}) {  // INT64_MAX: torch's `while`
      auto out = RunGraph(g, {{"M", Tensor::FromInt64s({}, {m})}, {"flip", Bool(flip)},
                              {"a0", Tensor::FromFloats({2}, {5, 7})}});
      // iterations run: min(M, 3) (cond turns false after i = 2)
      int64_t n = std::min<int64_t>(m, 3);
      std::vector<float> acc = {5, 7}, scan;
      for (int64_t i = 0; i < n; ++i) {
        acc[0] += flip ? -1.f : 1.f;
        acc[1] += flip ? -2.f : 2.f;
        scan.push_back(2 * acc[0]);
        scan.push_back(2 * acc[1]);
      }
      ASSERT_TRUE(out.count("final") && out.count("scans"));
      EXPECT_EQ(Floats(out["final"]), acc) << "M=" << m;
      EXPECT_EQ(out["scans"].shape(), (Shape{n, 2})) << "M=" << m;
      EXPECT_EQ(Floats(out["scans"]), scan) << "M=" << m;
    }
  }
}

TEST(ControlFlow, LoopWithoutTripCountOrCond) {
  // M omitted (cond decides), then cond omitted too (M decides): both inputs are optional.
  for (bool omit_m : {true, false}) {
    Graph g = NestedLoopGraph();
    Node& loop = g.nodes[0];
    loop.inputs[omit_m ? 0 : 1] = -1;
    Status st = PrepareGraph(g);
    ASSERT_TRUE(st.ok()) << st.message();
    auto out = RunGraph(g, {{"M", Tensor::FromInt64s({}, {2})}, {"flip", Bool(false)},
                            {"a0", Tensor::FromFloats({2}, {5, 7})}});
    ASSERT_TRUE(out.count("scans"));
    // no M: the body's cond stops it after 3 iterations; no cond: M = 2 iterations.
    EXPECT_EQ(out["scans"].shape(), (Shape{omit_m ? 3 : 2, 2}));
  }
}

TEST(ControlFlow, LoopIterationLimitIsAnErrorNamingTheNode) {
  // LoopIterationLimit() bounds a Loop (a hostile trip count, a cond that never turns false);
  // at the limit it is fine, one above it fails with the node's name.
  Graph g = NestedLoopGraph();
  g.nodes[0].inputs[1] = -1;  // no cond: M decides
  ASSERT_TRUE(PrepareGraph(g).ok());
  ExecutorOptions eo;
  eo.num_threads = 1;
  SetLoopIterationLimit(2);
  struct Restore {
    ~Restore() { SetLoopIterationLimit(kMaxLoopIterations); }
  } restore;
  auto ex = Executor::Create(g, eo);
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  for (int64_t m : {int64_t{2}, int64_t{3}}) {
    std::map<std::string, Tensor> feeds = {{"M", Tensor::FromInt64s({}, {m})}, {"flip", Bool(false)},
                                           {"a0", Tensor::FromFloats({2}, {5, 7})}};
    std::map<std::string, Tensor> out;
    Status st = (*ex)->Run(feeds, &out);
    if (m == 2) {
      EXPECT_TRUE(st.ok()) << st.message();
    } else {
      ASSERT_FALSE(st.ok());
      EXPECT_NE(st.message().find("the_loop"), std::string::npos) << st.message();
      EXPECT_NE(st.message().find("still running after 2 iterations"), std::string::npos) << st.message();
    }
  }
}

TEST(ControlFlow, LoopBodyArityErrorNamesTheNode) {
  Graph g = NestedLoopGraph();
  Graph& body = *g.nodes[0].attributes[0].second.g;
  body.outputs.pop_back();  // the node has one scan output, the body now none
  Status st = PrepareGraph(g);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("the_loop"), std::string::npos) << st.message();
}

// Scan: running sum over the rows of x (axis given), forwards or backwards, scan output
// stacked along `out_axis`, in reverse with out_dir 1; the body also adds an outer bias.
TEST(ControlFlow, ScanAxesAndDirections) {
  for (int in_axis : {0, 1}) {
    for (int in_dir : {0, 1}) {
      for (int out_axis : {0, 1}) {
        for (int out_dir : {0, 1}) {
          Graph g;
          int s0 = AddTestInput(g, "s0", DType::kFloat32, {2});
          int x = AddTestInput(g, "x", DType::kFloat32, in_axis == 0 ? Shape{3, 2} : Shape{2, 3});
          AddTestValue(g, "bias", Tensor::FromFloats({2}, {100, 200}));
          auto body = NewSubgraph("body");
          int st = AddTestInput(*body, "st", DType::kFloat32, {2});
          int row = AddTestInput(*body, "row", DType::kFloat32, {2});
          int sum = Op(*body, "Add", {st, row}, "sum");
          int biased = Op(*body, "Add", {sum, AddTestValue(*body, "bias")}, "biased");
          body->outputs = {sum, biased};
          int fin = AddTestValue(g, "fin"), ys = AddTestValue(g, "ys");
          g.AddNode(MakeNode("Scan", "the_scan", {s0, x}, {fin, ys},
                             {{"body", GraphAttr(body)},
                              {"num_scan_inputs", IntAttr(1)},
                              {"scan_input_axes", IntsAttr({in_axis})},
                              {"scan_input_directions", IntsAttr({in_dir})},
                              {"scan_output_axes", IntsAttr({out_axis})},
                              {"scan_output_directions", IntsAttr({out_dir})}}));
          g.outputs = {fin, ys};
          Status pst = PrepareGraph(g);
          ASSERT_TRUE(pst.ok()) << pst.message();
          EXPECT_EQ(g.value(ys).shape, out_axis == 0 ? (Shape{3, 2}) : (Shape{2, 3}));
          // rows of x: r[t][j]
          float r[3][2] = {{1, 2}, {3, 4}, {5, 6}};
          std::vector<float> xv;
          if (in_axis == 0) {
            for (int t = 0; t < 6; ++t) xv.push_back(r[t / 2][t % 2]);
          } else {
            for (int j = 0; j < 2; ++j)
              for (int t = 0; t < 3; ++t) xv.push_back(r[t][j]);
          }
          auto out = RunGraph(g, {{"s0", Tensor::FromFloats({2}, {0, 0})}, {"x", Tensor::FromFloats(g.value(x).shape, xv)}});
          float acc[2] = {0, 0};
          float slices[3][2];
          for (int k = 0; k < 3; ++k) {
            int t = in_dir ? 2 - k : k;
            acc[0] += r[t][0];
            acc[1] += r[t][1];
            int pos = out_dir ? 2 - k : k;
            slices[pos][0] = acc[0] + 100;
            slices[pos][1] = acc[1] + 200;
          }
          std::vector<float> want;
          if (out_axis == 0) {
            for (int k = 0; k < 6; ++k) want.push_back(slices[k / 2][k % 2]);
          } else {
            for (int j = 0; j < 2; ++j)
              for (int k = 0; k < 3; ++k) want.push_back(slices[k][j]);
          }
          const std::string label = "in_axis " + std::to_string(in_axis) + " in_dir " + std::to_string(in_dir) +
                                    " out_axis " + std::to_string(out_axis) + " out_dir " + std::to_string(out_dir);
          EXPECT_EQ(Floats(out["fin"]), (std::vector<float>{acc[0], acc[1]})) << label;
          EXPECT_EQ(Floats(out["ys"]), want) << label;
        }
      }
    }
  }
}

TEST(ControlFlow, OnnxWriterKeepsSubgraphs) {
  Graph g = NestedLoopGraph();
  g.info.opsets = {{"", 17}};
  ASSERT_TRUE(PrepareGraph(g).ok());
  auto bytes = SerializeOnnxModel(g);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  auto back = LoadOnnxModelFromBytes(*bytes, "loop.onnx", ".", {});
  ASSERT_TRUE(back.ok()) << back.status().message();
  auto feeds = std::map<std::string, Tensor>{{"M", Tensor::FromInt64s({}, {4})}, {"flip", Bool(true)},
                                             {"a0", Tensor::FromFloats({2}, {5, 7})}};
  auto a = RunGraph(g, feeds), b = RunGraph(*back, feeds);
  EXPECT_EQ(Floats(a["scans"]), Floats(b["scans"]));
  EXPECT_EQ(Floats(a["final"]), Floats(b["final"]));
}

TEST(ControlFlow, KernelWithoutExecutorIsAnError) {
  Graph g = IfGraph();
  ASSERT_TRUE(PrepareGraph(g).ok());
  const Node& n = g.nodes[3];
  ASSERT_EQ(n.op_type, "If");
  Tensor c = Bool(true);
  KernelContext ctx(n, {&c}, 1, nullptr);
  Status st = n.op->run(ctx);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("the_if"), std::string::npos) << st.message();
}

TEST(ControlFlow, ChannelsLastKeepsWhatSubgraphsRead) {
  // Three convolutions make a channels-last region (passes/channels_last.h); an If reads the
  // first one's output by name only, so that value must still be computed channels-first.
  Graph g;
  int c = AddTestInput(g, "c", DType::kBool, {});
  int x = AddTestInput(g, "x", DType::kFloat32, {1, 4, 8, 8});
  auto weights = [&](const std::string& name, int64_t m, int64_t cin) {
    std::vector<float> w((size_t)(m * cin * 9));
    for (size_t i = 0; i < w.size(); ++i) w[i] = std::sin(0.37f * (float)i) * 0.3f;
    return AddTestValue(g, name, Tensor::FromFloats({m, cin, 3, 3}, w));
  };
  const AttrList pads = {{"pads", IntsAttr({1, 1, 1, 1})}};
  int c1 = Op(g, "Conv", {x, weights("w1", 8, 4)}, "c1", pads);
  int c2 = Op(g, "Conv", {c1, weights("w2", 8, 8)}, "c2", pads);
  int c3 = Op(g, "Conv", {c2, weights("w3", 8, 8)}, "c3", pads);
  int y = AddTestValue(g, "y");
  g.AddNode(MakeNode("If", "the_if", {c}, {y},
                     {{"then_branch", GraphAttr(Branch("then", "Identity", "c1"))},
                      {"else_branch", GraphAttr(Branch("else", "Neg", "c1"))}}));
  g.outputs = {c3, y};
  ASSERT_TRUE(PrepareGraph(g).ok());
  std::vector<float> xv(256);
  for (size_t i = 0; i < xv.size(); ++i) xv[i] = std::cos(0.11f * (float)i);
  const Tensor xt = Tensor::FromFloats({1, 4, 8, 8}, xv);
  for (bool cond : {true, false}) {
    std::map<std::string, Tensor> plain, fast;
    ExecutorOptions o;
    auto ex = Executor::Create(g, o);
    ASSERT_TRUE(ex.ok()) << ex.status().message();
    ASSERT_TRUE((*ex)->Run({{"c", Bool(cond)}, {"x", xt}}, &plain).ok());
    o.optimize = true;  // channels_last on (a no-op where oneDNN's channels-last convs are off)
    auto ex2 = Executor::Create(g, o);
    ASSERT_TRUE(ex2.ok()) << ex2.status().message();
    Status st = (*ex2)->Run({{"c", Bool(cond)}, {"x", xt}}, &fast);
    ASSERT_TRUE(st.ok()) << st.message();
    for (const char* name : {"c3", "y"}) {
      const std::vector<float> a = Floats(plain.at(name)), b = Floats(fast.at(name));
      ASSERT_EQ(a.size(), b.size()) << name;
      for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-4 * (1 + std::fabs(a[i]))) << name << " " << i;
    }
  }
}

}  // namespace
}  // namespace dopt
