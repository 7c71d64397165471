// FuseGroupNormPass through the executor: torch's GroupNorm export (Reshape -> InstanceNormalization
// -> Reshape [-> Mul -> Add]) runs as one GroupNormalization in optimised runs, with the chain's
// values; chains it must keep (other scales, a leaked intermediate, gamma along the wrong axis)
// stay, and exact (observing) runs keep every op.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "executor/executor.h"
#include "graph_test_util.h"
#include "ir/graph_edit.h"
#include "ops/shape_inference.h"

namespace dopt {
namespace {

Tensor Rand(const Shape& s, uint32_t seed, float lo = -3.f, float hi = 3.f) {
  return testutil::RandomTensor(s, seed, lo, hi);
}

constexpr int64_t kN = 2, kC = 6, kH = 5, kW = 7;

struct Spec {
  int64_t groups = 3;
  bool affine = true;
  float in_scale = 1.f;   // the InstanceNormalization's scale (1: fusable)
  bool leak = false;      // the InstanceNormalization's output is also a graph output
  Shape gamma_shape = {kC, 1, 1};
  bool fused = true;
};

Graph MakeGraph(const Spec& sp) {
  Graph g;
  const int x = testutil::AddFloatInput(g, "x", {kN, kC, kH, kW});
  auto node = [&](const std::string& type, std::vector<int> ins, const std::string& out, AttrList attrs = {}) {
    const int o = AddIntermediate(g, out);
    g.AddNode(MakeNode(type, type + "_" + out, ins, {o}, attrs, 17));
    return o;
  };
  const int s1 = AddInt64Initializer(g, "s1", {kN, sp.groups, -1});
  const int s2 = AddInt64Initializer(g, "s2", {kN, kC, kH, kW});
  const int one = AddInitializer(g, "one", Tensor::FromFloats({sp.groups}, std::vector<float>(sp.groups, sp.in_scale)));
  const int zero = AddInitializer(g, "zero", Tensor::FromFloats({sp.groups}, std::vector<float>(sp.groups, 0.f)));
  const int r1 = node("Reshape", {x, s1}, "r1");
  const int n = node("InstanceNormalization", {r1, one, zero}, "n", {{"epsilon", FloatAttr(1e-3f)}});
  int y = node("Reshape", {n, s2}, "r2");
  if (sp.affine) {
    const int gm = AddInitializer(g, "gamma", Rand(sp.gamma_shape, 7, 0.5f, 2.f));
    const int bt = AddInitializer(g, "beta", Rand({kC, 1, 1}, 8));
    y = node("Mul", {y, gm}, "m");
    y = node("Add", {y, bt}, "y");
  }
  g.outputs = {y};
  if (sp.leak) g.outputs.push_back(n);
  Status st = PrepareGraph(g);
  EXPECT_TRUE(st.ok()) << st.message();
  return g;
}

std::pair<Tensor, size_t> RunGraph(const Graph& g, ExecutorOptions o) {
  return testutil::RunAndCount(g, o, {{"x", Rand({kN, kC, kH, kW}, 5)}}, g.value(g.outputs[0]).name, "GroupNormalization");
}

TEST(FuseGroupNorm, TorchExportBecomesOneGroupNormalization) {
  const std::vector<Spec> specs = {
      {},                                                    // 3 groups, affine
      {1},                                                   // one group (PoolFormer)
      {6, false},                                            // one channel a group, no Mul/Add
      {3, true, 2.f, false, {kC, 1, 1}, false},              // InstanceNormalization scale 2: kept
      {3, true, 1.f, true, {kC, 1, 1}, false},               // a leaked intermediate: kept
      {3, true, 1.f, false, {1, kC, 1, 1}},                  // gamma [1, C, 1, 1]
  };
  for (size_t i = 0; i < specs.size(); ++i) {
    Graph g = MakeGraph(specs[i]);
    ExecutorOptions plain, optimized;
    optimized.optimize = true;
    auto [want, f0] = RunGraph(g, plain);
    auto [got, f1] = RunGraph(g, optimized);
    EXPECT_EQ(f0, 0u) << "spec " << i;
    EXPECT_EQ(f1, specs[i].fused ? 1u : 0u) << "spec " << i;
    ASSERT_EQ(got.shape(), want.shape()) << "spec " << i;
    for (int64_t k = 0; k < got.numel(); ++k) {
      const float a = want.data<float>()[k], b = got.data<float>()[k];
      ASSERT_NEAR(a, b, 2e-6f * (1.f + std::fabs(a))) << "spec " << i << " k=" << k;
    }
    auto [obs, f2] = RunGraph(g, ExecutorOptions::Observing(1, {}));
    EXPECT_EQ(f2, 0u) << "spec " << i;
  }
}

// gamma of kW values broadcasts along x's last dim, not its channels: the normalisation still
// fuses, the Mul and Add stay, and the values are the chain's.
TEST(FuseGroupNorm, GammaAlongTheLastAxisStaysAMul) {
  Spec sp;
  sp.gamma_shape = {kW};
  Graph g = MakeGraph(sp);
  ExecutorOptions plain, o;
  o.optimize = true;
  auto [want, f0] = RunGraph(g, plain);
  auto ex = Executor::Create(g, o);
  ASSERT_TRUE(ex.ok());
  size_t gn = 0, mul = 0;
  for (const Node& nd : (*ex)->graph().nodes) {
    gn += nd.op_type == "GroupNormalization";
    mul += nd.op_type == "Mul";
  }
  EXPECT_EQ(gn, 1u);
  EXPECT_EQ(mul, 1u);
  auto [got, f1] = RunGraph(g, o);
  for (int64_t k = 0; k < got.numel(); ++k)
    ASSERT_NEAR(want.data<float>()[k], got.data<float>()[k], 2e-6f * (1.f + std::fabs(want.data<float>()[k])));
}

}  // namespace
}  // namespace dopt
