#include <cmath>
#include <limits>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

// X = arange(12).reshape(1, 1, 3, 4) * 0.5 - 1 sampled at six points (some outside [-1, 1]);
// the expected values are ONNX's reference implementation (onnx.reference, opset 20).
struct RefCase {
  const char* mode;
  const char* padding;
  int align_corners;
  std::vector<float> y;
};
const std::vector<RefCase>& RefCases() {
  static const std::vector<RefCase> cases = {
      {"linear", "zeros", 0, {0.000000f, 2.250000f, 1.282501f, 0.000000f, 3.300000f, 0.539999f}},
      {"linear", "zeros", 1, {-0.440000f, 2.100000f, 3.315001f, 0.050000f, 2.762500f, 3.570000f}},
      {"linear", "border", 0, {-1.000000f, 2.250000f, 4.500000f, 0.250000f, 3.300000f, 4.500000f}},
      {"linear", "border", 1, {-0.800000f, 2.100000f, 3.900000f, 0.125000f, 2.762500f, 4.462500f}},
      {"linear", "reflection", 0, {-0.950000f, 2.250000f, 4.500000f, 1.050000f, 3.300000f, 4.500000f}},
      {"linear", "reflection", 1, {-0.575000f, 2.100000f, 3.825000f, 1.325000f, 2.762500f, 4.062500f}},
      {"nearest", "zeros", 0, {0.000000f, 2.000000f, 0.000000f, 0.000000f, 3.500000f, 0.000000f}},
      {"nearest", "zeros", 1, {-1.000000f, 2.000000f, 4.500000f, 0.000000f, 3.500000f, 4.500000f}},
      {"nearest", "border", 0, {-1.000000f, 2.000000f, 4.500000f, 0.000000f, 3.500000f, 4.500000f}},
      {"nearest", "border", 1, {-1.000000f, 2.000000f, 4.500000f, 0.000000f, 3.500000f, 4.500000f}},
      {"nearest", "reflection", 0, {-1.000000f, 2.000000f, 4.500000f, 0.000000f, 3.500000f, 4.500000f}},
      {"nearest", "reflection", 1, {-1.000000f, 2.000000f, 4.500000f, 2.000000f, 3.500000f, 4.500000f}},
      {"cubic", "zeros", 0, {0.053999f, 2.406338f, 1.247726f, -0.037125f, 3.562125f, 0.523583f}},
      {"cubic", "zeros", 1, {-0.560417f, 2.187663f, 3.998987f, -0.077829f, 3.337973f, 4.064484f}},
      {"cubic", "border", 0, {-1.221812f, 2.349939f, 4.567687f, 0.296875f, 3.349501f, 4.553999f}},
      {"cubic", "border", 1, {-0.849500f, 2.161500f, 4.036501f, 0.166016f, 2.951008f, 4.471822f}},
      {"cubic", "reflection", 0, {-1.303625f, 2.349939f, 4.650002f, 0.928875f, 3.349501f, 4.829999f}},
      {"cubic", "reflection", 1, {-0.841906f, 2.175000f, 4.240968f, 1.047593f, 3.167008f, 4.383887f}},
  };
  return cases;
}

Tensor RefX() {
  std::vector<float> v(12);
  for (int i = 0; i < 12; ++i) v[i] = (float)i * 0.5f - 1.f;
  return Tensor::FromFloats({1, 1, 3, 4}, v);
}
Tensor RefGrid() {
  return Tensor::FromFloats({1, 2, 3, 2}, {-1.3f, -0.9f, 0.2f, 0.1f, 1.1f, 0.7f, 0.5f, -1.6f, -0.25f, 0.6f, 0.95f, 1.2f});
}

TEST(GridSampleOp, MatchesOnnxReferenceAllModes) {
  for (const RefCase& c : RefCases()) {
    const std::string mode = c.mode;
    for (int opset : {16, 20}) {
      std::string m = mode;
      if (opset == 16 && mode != "nearest") m = mode == "linear" ? "bilinear" : "bicubic";
      EXPECT_TRUE(CheckOp(OpCase("GridSample", opset)
                              .Attr("mode", StringAttr(m))
                              .Attr("padding_mode", StringAttr(c.padding))
                              .Attr("align_corners", IntAttr(c.align_corners))
                              .Inputs({RefX(), RefGrid()})
                              .Expect(Tensor::FromFloats({1, 1, 2, 3}, c.y), Tol::Near(1e-5))
                              .Label(m + " " + c.padding + " align_corners=" + std::to_string(c.align_corners))));
    }
  }
}

// An identity grid with align_corners = 1 reproduces X in every mode; 2-D and (opset 20) 3-D,
// several batches and channels, split across threads.
TEST(GridSampleOp, IdentityGridReproducesInput) {
  for (int k : {2, 3}) {
    const Shape xs = k == 2 ? Shape{2, 3, 9, 13} : Shape{2, 3, 4, 5, 6};
    Tensor x = Random(xs, 31);
    Shape gs = {xs[0]};
    for (int d = 0; d < k; ++d) gs.push_back(xs[d + 2]);
    gs.push_back(k);
    Tensor grid(DType::kFloat32, gs);
    int64_t pts = 1;
    for (int d = 0; d < k; ++d) pts *= xs[d + 2];
    for (int64_t n = 0; n < xs[0]; ++n)
      for (int64_t p = 0; p < pts; ++p) {
        int64_t r = p;
        for (int d = k - 1; d >= 0; --d) {
          const int64_t i = r % xs[d + 2];
          r /= xs[d + 2];
          grid.data<float>()[(n * pts + p) * k + (k - 1 - d)] = 2.f * (float)i / (float)(xs[d + 2] - 1) - 1.f;
        }
      }
    for (const char* mode : {"linear", "nearest", "cubic"}) {
      EXPECT_TRUE(CheckOp(OpCase("GridSample", 20)
                              .Attr("mode", StringAttr(mode))
                              .Attr("align_corners", IntAttr(1))
                              .Inputs({x, grid})
                              .Expect(x, Tol::Near(1e-5))
                              .Label(std::string(mode) + " k=" + std::to_string(k))));
    }
  }
}

// The 2-d bilinear path (taps of all locations first, then each channel plane) sums the same taps
// in the same order as the general path: X [N, C, H, W] and the same X as [N, C, 1, H, W] sampled
// at depth 0 (the general k-d path; its depth taps are 1 and a zero) give the same bits, for
// grids inside and outside [-1, 1], several batches and channels, sizes swept. Border and
// reflection read the depth's second tap (weight 0) where zeros skips it, so only zeros is
// compared bit for bit; the others to 1e-6. 130 x 130 locations: two chunks of taps per batch.
TEST(GridSampleOp, Bilinear2DMatchesGeneralPath) {
  uint32_t seed = 40;
  for (const Shape& xs : {Shape{1, 1, 1, 1}, Shape{2, 3, 7, 9}, Shape{1, 8, 20, 20}, Shape{3, 2, 5, 1}, Shape{2, 1, 9, 13}}) {
    for (const Shape& loc : {Shape{1, 1}, Shape{5, 6}, Shape{300, 4}, Shape{130, 130}}) {
      if (loc[0] == 130 && xs[1] != 1) continue;  // the chunked case on one channel only
      Tensor x = Random(xs, ++seed, -2.f, 2.f);
      Tensor grid = Random({xs[0], loc[0], loc[1], 2}, ++seed, -1.3f, 1.3f);
      Tensor x3 = x.Reshaped({xs[0], xs[1], 1, xs[2], xs[3]});
      Tensor grid3(DType::kFloat32, {xs[0], 1, loc[0], loc[1], 3});
      for (int64_t p = 0; p < grid.numel() / 2; ++p) {
        grid3.data<float>()[p * 3] = grid.data<float>()[p * 2];
        grid3.data<float>()[p * 3 + 1] = grid.data<float>()[p * 2 + 1];
        grid3.data<float>()[p * 3 + 2] = 0.f;
      }
      for (const char* padding : {"zeros", "border", "reflection"}) {
        for (int ac : {0, 1}) {
          auto run = [&](const Tensor& xx, const Tensor& gg) {
            return RunOp(OpCase("GridSample", 20).Attr("mode", StringAttr("linear")).Attr("padding_mode", StringAttr(padding))
                             .Attr("align_corners", IntAttr(ac)).Inputs({xx, gg}));
          };
          auto two = run(x, grid);
          auto three = run(x3, grid3);
          ASSERT_TRUE(two.ok() && three.ok()) << two.status().message() << three.status().message();
          Tensor general = (*three)[0].Reshaped((*two)[0].shape());
          EXPECT_TRUE(TensorsNear((*two)[0], general, std::string(padding) == "zeros" ? Tol::Exact() : Tol::Near(1e-6)))
              << ShapeToString(xs) << " " << ShapeToString(loc) << " " << padding << " align_corners=" << ac;
        }
      }
    }
  }
}

// NaN, infinite and huge coordinates: zeros padding reads 0, border the edge pixel.
TEST(GridSampleOp, NonFiniteAndFarCoordinates) {
  const float inf = std::numeric_limits<float>::infinity();
  Tensor grid = Tensor::FromFloats({1, 1, 3, 2}, {std::nanf(""), 0.f, inf, 0.f, 1e30f, -1e30f});
  for (const char* mode : {"bilinear", "nearest", "bicubic"}) {
    EXPECT_TRUE(CheckOp(OpCase("GridSample", 16).Attr("mode", StringAttr(mode)).Inputs({RefX(), grid})
                            .Expect(Tensor::FromFloats({1, 1, 1, 3}, {0, 0, 0}))));
    std::vector<Tensor> out;
    ASSERT_TRUE(CheckOp(OpCase("GridSample", 16).Attr("mode", StringAttr(mode)).Attr("padding_mode", StringAttr("reflection"))
                            .Inputs({RefX(), grid}), &out));
    EXPECT_TRUE(CheckOp(OpCase("GridSample", 16).Attr("mode", StringAttr(mode)).Attr("padding_mode", StringAttr("border"))
                            .Attr("align_corners", IntAttr(1)).Inputs({RefX(), grid})
                            .Expect(Tensor::FromFloats({1, 1, 1, 3}, {1.0f, 2.5f, 0.5f}), Tol::Near(1e-5))));
  }
}

TEST(GridSampleOp, ShapeRuleAndErrors) {
  auto inf = InferOp(OpCase("GridSample", 16), {Info(DType::kFloat32, {-1, 3, 8, 8}), Info(DType::kFloat32, {2, 5, 7, 2})});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].shape, (Shape{2, 3, 5, 7}));
  EXPECT_FALSE(InferOp(OpCase("GridSample", 16), {Info(DType::kFloat32, {1, 3, 8, 8, 8}), Info(DType::kFloat32, {1, 2, 2, 2, 3})}).ok());
  EXPECT_TRUE(InferOp(OpCase("GridSample", 20), {Info(DType::kFloat32, {1, 3, 8, 8, 8}), Info(DType::kFloat32, {1, 2, 2, 2, 3})}).ok());
  EXPECT_FALSE(InferOp(OpCase("GridSample", 16), {Info(DType::kFloat32, {1, 3, 8, 8}), Info(DType::kFloat32, {1, 2, 2, 3})}).ok());
  EXPECT_FALSE(InferOp(OpCase("GridSample", 16).Attr("mode", StringAttr("linear")),
                       {Info(DType::kFloat32, {1, 3, 8, 8}), Info(DType::kFloat32, {1, 2, 2, 2})}).ok());
  EXPECT_FALSE(InferOp(OpCase("GridSample", 20).Attr("mode", StringAttr("bicubic")),
                       {Info(DType::kFloat32, {1, 3, 8, 8}), Info(DType::kFloat32, {1, 2, 2, 2})}).ok());
  EXPECT_FALSE(InferOp(OpCase("GridSample", 16).Attr("padding_mode", StringAttr("wrap")),
                       {Info(DType::kFloat32, {1, 3, 8, 8}), Info(DType::kFloat32, {1, 2, 2, 2})}).ok());
  EXPECT_FALSE(InferOp(OpCase("GridSample", 16), {Info(DType::kInt64, {1, 3, 8, 8}), Info(DType::kFloat32, {1, 2, 2, 2})}).ok());
}

// Opset 20 renamed bilinear/bicubic: the upgrade rule renames the attribute, and the node
// computes the same at opset 20.
TEST(GridSampleOp, UpgradeTo20RenamesModes) {
  for (const char* old_mode : {"bilinear", "bicubic", "nearest"}) {
    OpCase c = OpCase("GridSample", 16).Attr("mode", StringAttr(old_mode)).Attr("padding_mode", StringAttr("border"))
                   .Inputs({RefX(), RefGrid()});
    Graph g;
    AddTestInput(g, "x", DType::kFloat32, {1, 1, 3, 4});
    AddTestInput(g, "grid", DType::kFloat32, {1, 2, 3, 2});
    AddTestValue(g, "y");
    Node n = c.MakeNode({true, true});
    g.AddNode(n);
    const OpDef* def = FindOpDef("", "GridSample");
    ASSERT_NE(def, nullptr);
    ASSERT_NE(def->upgrade.rewrite, nullptr);
    ASSERT_TRUE(def->upgrade.rewrite(g, 0, 16, 21).ok());
    auto mode = g.nodes[0].GetString("mode", "");
    ASSERT_TRUE(mode.ok());
    const std::string want = std::string(old_mode) == "bilinear" ? "linear" : std::string(old_mode) == "bicubic" ? "cubic" : "nearest";
    EXPECT_EQ(*mode, want);
    auto before = RunOp(c);
    auto after = RunOp(OpCase("GridSample", 21).Attrs(g.nodes[0].attributes).Inputs({RefX(), RefGrid()}));
    ASSERT_TRUE(before.ok() && after.ok());
    EXPECT_TRUE(TensorsNear((*after)[0], (*before)[0], Tol::Exact()));
  }
}

}  // namespace
}  // namespace dopt
