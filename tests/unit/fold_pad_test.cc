// FoldPadPass through the executor: a zero constant Pad of the spatial dims in front of Conv
// becomes the Conv's padding (an all-zero Pad disappears) in optimised runs, with the same
// values; Pads it must keep (another fill value, batch pads, a non-Conv reader, negative pads,
// an observed output) stay, and exact (observing) runs keep every Pad.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "executor/executor.h"
#include "graph_test_util.h"
#include "ir/graph_edit.h"
#include "ops/shape_inference.h"

namespace dopt {
namespace {

Tensor Rand(const Shape& s, uint32_t seed) { return testutil::RandomTensor(s, seed, -1.f, 1.f); }

struct Case {
  std::vector<int64_t> pads;     // Pad's pads, rank 4
  float fill = 0.f;              // constant_value (input)
  std::vector<int64_t> conv_pads = {0, 1, 1, 0};
  bool relu_reader = false;      // the Pad's output is also read by a Relu (an output)
  bool attr_form = false;        // opset-2 Pad: pads/value attributes
  bool expect_folded = true;
  std::string auto_pad = "";     // the Conv's auto_pad ("" none)
};

Graph MakeGraph(const Case& c) {
  Graph g;
  const int x = testutil::AddFloatInput(g, "x", {1, 4, 9, 11});
  const int p = AddIntermediate(g, "p");
  if (c.attr_form) {
    g.AddNode(MakeNode("Pad", "pad", {x}, {p}, {{"pads", IntsAttr(c.pads)}, {"value", FloatAttr(c.fill)}}, 2));
  } else {
    const int pads = AddInt64Initializer(g, "pads", c.pads);
    const int fill = AddInitializer(g, "fill", Tensor::Scalar(c.fill));
    g.AddNode(MakeNode("Pad", "pad", {x, pads, fill}, {p}, {}, 17));
  }
  const int w = AddInitializer(g, "w", Rand({6, 4, 3, 3}, 1));
  const int b = AddInitializer(g, "b", Rand({6}, 2));
  const int y = AddIntermediate(g, "y");
  AttrList conv_attrs = {{"pads", IntsAttr(c.conv_pads)}};
  if (!c.auto_pad.empty()) conv_attrs.push_back({"auto_pad", StringAttr(c.auto_pad)});
  g.AddNode(MakeNode("Conv", "conv", {p, w, b}, {y}, conv_attrs, 17));
  g.outputs = {y};
  if (c.relu_reader) {
    const int r = AddIntermediate(g, "r");
    g.AddNode(MakeNode("Relu", "relu", {p}, {r}, {}, 17));
    g.outputs.push_back(r);
  }
  Status st = PrepareGraph(g);
  EXPECT_TRUE(st.ok()) << st.message();
  return g;
}

std::pair<Tensor, size_t> RunGraph(const Graph& g, ExecutorOptions o) {
  return testutil::RunAndCount(g, o, {{"x", Rand({1, 4, 9, 11}, 5)}}, "y", "Pad");
}

TEST(FoldPad, ZeroSpatialPadsBecomeTheConvsOwn) {
  const std::vector<Case> cases = {
      {{0, 0, 1, 2, 0, 0, 2, 1}},                                   // asymmetric, added to the conv's
      {{0, 0, 0, 0, 0, 0, 0, 0}, 0.f, {1, 1, 1, 1}},                // all zero: dropped
      {{0, 0, 0, 0, 0, 0, 0, 0}, 0.f, {0, 0, 0, 0}, true},          // all zero, any reader
      {{0, 0, 2, 0, 0, 0, 0, 3}, 0.f, {0, 1, 1, 0}, false, true},   // opset-2 attributes
      {{0, 0, 1, 1, 0, 0, 1, 1}, 1.f, {0, 0, 0, 0}, false, false, false},  // fill 1: kept
      {{1, 0, 1, 1, 0, 0, 1, 1}, 0.f, {0, 0, 0, 0}, false, false, false},  // batch pad: kept
      {{0, 0, 1, 1, 0, 0, 1, 1}, 0.f, {0, 0, 0, 0}, true, false, false},   // a Relu reads it: kept
      {{0, 0, -1, 1, 0, 0, 1, 1}, 0.f, {0, 0, 0, 0}, false, false, false}, // a crop: kept
      // VALID ignores the Conv's stale pads attribute: the Pad's pads alone.
      {{0, 0, 1, 2, 0, 0, 2, 1}, 0.f, {1, 1, 1, 1}, false, false, true, "VALID"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    Graph g = MakeGraph(c);
    ExecutorOptions plain, optimized;
    optimized.optimize = true;
    auto [want, p0] = RunGraph(g, plain);
    auto [got, p1] = RunGraph(g, optimized);
    EXPECT_EQ(p0, 1u) << "case " << i;
    EXPECT_EQ(p1, c.expect_folded ? 0u : 1u) << "case " << i;
    ASSERT_EQ(got.shape(), want.shape()) << "case " << i;
    for (int64_t k = 0; k < got.numel(); ++k) {
      const float a = want.data<float>()[k], b = got.data<float>()[k];
      ASSERT_NEAR(a, b, 1e-5f * (1.f + std::fabs(a))) << "case " << i << " k=" << k;
    }
    // Observing runs (calibration) keep the Pad: its output is a value with its own range.
    auto [obs, p2] = RunGraph(g, ExecutorOptions::Observing(1, {}));
    EXPECT_EQ(p2, 1u) << "case " << i;
  }
}

}  // namespace
}  // namespace dopt
