#include <cmath>

#include "check_op.h"
#include "ops/shape_inference.h"
#include "passes/upgrade_opset.h"

namespace dopt {
namespace {

using namespace optest;

// x [N, C, inner...]; scale/bias of C values (per channel) after expanding per-group ones.
Tensor RefGroupNorm(const Tensor& x, int64_t groups, const std::vector<float>& s, const std::vector<float>& b,
                    float eps) {
  const int64_t N = x.dim(0), C = x.dim(1), inner = x.numel() / (N * C), gs = C / groups * inner;
  std::vector<float> y(x.numel());
  for (int64_t p = 0; p < N * groups; ++p) {
    const float* xg = x.data<float>() + p * gs;
    double m = 0, v = 0;
    for (int64_t i = 0; i < gs; ++i) m += xg[i];
    m /= gs;
    for (int64_t i = 0; i < gs; ++i) v += (xg[i] - m) * (xg[i] - m);
    v /= gs;
    for (int64_t i = 0; i < gs; ++i) {
      const int64_t c = (p % groups) * (C / groups) + i / inner;
      y[p * gs + i] = (float)((xg[i] - m) / std::sqrt(v + eps) * s[c] + b[c]);
    }
  }
  return Tensor::FromFloats(x.shape(), y);
}

TEST(GroupNormalizationOp, Opset21PerChannel) {
  Tensor x = Random({2, 6, 3, 2}, 91, -1.f, 2.f), s = Random({6}, 92), b = Random({6}, 93);
  for (int64_t groups : {1, 2, 3, 6}) {
    EXPECT_TRUE(CheckOp(OpCase("GroupNormalization", 21)
                            .Attr("num_groups", IntAttr(groups))
                            .Attr("epsilon", FloatAttr(1e-3f))
                            .Inputs({x, s, b})
                            .Expect(RefGroupNorm(x, groups, Values<float>(s), Values<float>(b), 1e-3f), Tol::Near(1e-5))
                            .Label("groups " + std::to_string(groups))));
  }
}

TEST(GroupNormalizationOp, Opset18PerGroup) {
  Tensor x = Random({2, 6, 5}, 94), s = Random({3}, 95), b = Random({3}, 96);
  std::vector<float> sc, bc;
  for (int c = 0; c < 6; ++c) {
    sc.push_back(s.data<float>()[c / 2]);
    bc.push_back(b.data<float>()[c / 2]);
  }
  EXPECT_TRUE(CheckOp(OpCase("GroupNormalization", 18)
                          .Attr("num_groups", IntAttr(3))
                          .Inputs({x, s, b})
                          .Expect(RefGroupNorm(x, 3, sc, bc, 1e-5f), Tol::Near(1e-5))));
}

TEST(GroupNormalizationOp, Errors) {
  std::vector<ValueInfo> ins = {Info(DType::kFloat32, {1, 6, 2}), Info(DType::kFloat32, {3}), Info(DType::kFloat32, {3})};
  EXPECT_TRUE(InferOp(OpCase("GroupNormalization", 18).Attr("num_groups", IntAttr(3)), ins).ok());
  EXPECT_FALSE(InferOp(OpCase("GroupNormalization", 21).Attr("num_groups", IntAttr(3)), ins).ok());  // per channel
  EXPECT_FALSE(InferOp(OpCase("GroupNormalization", 18).Attr("num_groups", IntAttr(4)), ins).ok());  // 6 % 4
  EXPECT_FALSE(InferOp(OpCase("GroupNormalization", 18), ins).ok());                                // no num_groups
}

// Upgrading 18 -> 21 repeats a constant per-group scale per channel and rewrites a computed
// bias into Unsqueeze -> Expand -> Reshape; the graph computes the same before and after.
TEST(GroupNormalizationOp, UpgradeTo21KeepsResults) {
  Graph g;
  g.info.format = "onnx";
  g.info.ir_version = 8;
  g.info.opsets = {{"", 18}};
  const int x = AddTestInput(g, "x", DType::kFloat32, {2, 6, 4});
  const int bias_in = AddTestInput(g, "bias", DType::kFloat32, {3});
  const int s = AddTestValue(g, "scale", Random({3}, 97));
  const int y = AddTestValue(g, "y");
  g.AddNode(MakeNode("GroupNormalization", "gn", {x, s, bias_in}, {y}, {{"num_groups", IntAttr(3)}}, 18));
  g.outputs.push_back(y);
  ASSERT_TRUE(PrepareGraph(g).ok());
  std::map<std::string, Tensor> feeds = {{"x", Random({2, 6, 4}, 98)}, {"bias", Random({3}, 99)}};
  auto before = RunGraph(g, feeds);
  Status st = UpgradeOpset(g, 21);
  ASSERT_TRUE(st.ok()) << st.message();
  int gn = -1;
  for (int i = 0; i < (int)g.nodes.size(); ++i)
    if (g.nodes[i].op_type == "GroupNormalization") gn = i;
  ASSERT_GE(gn, 0);
  EXPECT_EQ(g.nodes[gn].opset_version, 21);
  EXPECT_EQ(g.value(g.nodes[gn].inputs[1]).shape, (Shape{6}));
  EXPECT_EQ(g.value(g.nodes[gn].inputs[2]).shape, (Shape{6}));
  auto after = RunGraph(g, feeds);
  ASSERT_EQ(before.count("y"), 1u);
  ASSERT_EQ(after.count("y"), 1u);
  EXPECT_TRUE(TensorsNear(after["y"], before["y"], Tol::Exact()));
}

}  // namespace
}  // namespace dopt
