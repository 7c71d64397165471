#include <algorithm>
#include <cmath>

#include "check_op.h"
#include "ir/graph_edit.h"
#include "ops/shape_inference.h"
#include "passes/upgrade_opset.h"

namespace dopt {
namespace {
using namespace optest;

// Straightforward RoiAlign in double: each sample point interpolated on its own.
struct RefParams {
  bool max_mode;
  bool half_pixel;
  int64_t oh, ow, ratio;
  double scale;
};

std::vector<Tensor> RefRoiAlign(const std::vector<Tensor>& in, const RefParams& p) {
  const Tensor &x = in[0], &rois = in[1];
  const std::vector<int64_t> bi = in[2].ToInt64Vector();
  const int64_t c = x.dim(1), h = x.dim(2), w = x.dim(3), r = rois.dim(0);
  Tensor y(DType::kFloat32, {r, c, p.oh, p.ow});
  for (int64_t i = 0; i < r; ++i) {
    const float* roi = rois.data<float>() + i * 4;
    const double off = p.half_pixel ? 0.5 : 0.0;
    const double x0 = roi[0] * p.scale - off, y0 = roi[1] * p.scale - off;
    double rw = roi[2] * p.scale - off - x0, rh = roi[3] * p.scale - off - y0;
    if (!p.half_pixel) rw = std::max(rw, 1.0), rh = std::max(rh, 1.0);
    const double bh = rh / p.oh, bw = rw / p.ow;
    const int64_t gh = p.ratio ? p.ratio : std::max<int64_t>(0, (int64_t)std::ceil(rh / p.oh));
    const int64_t gw = p.ratio ? p.ratio : std::max<int64_t>(0, (int64_t)std::ceil(rw / p.ow));
    for (int64_t ch = 0; ch < c; ++ch) {
      const float* img = x.data<float>() + (bi[i] * c + ch) * h * w;
      auto at = [&](int64_t yy, int64_t xx) { return (double)img[yy * w + xx]; };
      for (int64_t ph = 0; ph < p.oh; ++ph)
        for (int64_t pw = 0; pw < p.ow; ++pw) {
          double sum = 0, mx = 0;
          bool first = true;
          for (int64_t iy = 0; iy < gh; ++iy)
            for (int64_t ix = 0; ix < gw; ++ix) {
              double sy = y0 + ph * bh + (iy + 0.5) * bh / gh, sx = x0 + pw * bw + (ix + 0.5) * bw / gw;
              double v = 0, m = 0;
              if (sy >= -1 && sy <= h && sx >= -1 && sx <= w) {
                sy = std::clamp(sy, 0.0, (double)(h - 1));
                sx = std::clamp(sx, 0.0, (double)(w - 1));
                const int64_t ylo = (int64_t)sy, xlo = (int64_t)sx;
                const int64_t yhi = std::min(ylo + 1, h - 1), xhi = std::min(xlo + 1, w - 1);
                const double ly = sy - ylo, lx = sx - xlo;
                const double c1 = (1 - ly) * (1 - lx) * at(ylo, xlo), c2 = (1 - ly) * lx * at(ylo, xhi);
                const double c3 = ly * (1 - lx) * at(yhi, xlo), c4 = ly * lx * at(yhi, xhi);
                v = c1 + c2 + c3 + c4;
                m = std::max({c1, c2, c3, c4});
              }
              sum += v;
              mx = first ? m : std::max(mx, m);
              first = false;
            }
          y.data<float>()[((i * c + ch) * p.oh + ph) * p.ow + pw] =
              (float)(p.max_mode ? mx : sum / (double)std::max<int64_t>(gh * gw, 1));
        }
    }
  }
  return {y};
}

Tensor Rois() {
  // Inside, partly outside, tiny, reversed, far outside.
  return Tensor::FromFloats({6, 4}, {0, 0, 9, 9, 0, 5, 4, 9, 5, 5, 9, 9, -3, -2, 4.5f, 3.2f, 2, 2, 2.3f, 2.1f, 30, 30, 40, 45});
}

TEST(RoiAlignOp, SweepMatchesStraightforwardReference) {
  Tensor x = Random({2, 3, 10, 12}, 5);
  Tensor bi = Tensor::FromInt64s({6}, {0, 1, 1, 0, 1, 0});
  for (bool max_mode : {false, true})
    for (bool half : {false, true})
      for (int64_t ratio : {0, 1, 2})
        for (auto [oh, ow] : {std::pair<int64_t, int64_t>{1, 1}, {3, 2}, {5, 5}})
          for (double scale : {1.0, 0.5}) {
            RefParams p{max_mode, half, oh, ow, ratio, scale};
            EXPECT_TRUE(CheckOp(OpCase("RoiAlign", 16)
                                    .Attr("mode", StringAttr(max_mode ? "max" : "avg"))
                                    .Attr("coordinate_transformation_mode", StringAttr(half ? "half_pixel" : "output_half_pixel"))
                                    .Attr("output_height", IntAttr(oh))
                                    .Attr("output_width", IntAttr(ow))
                                    .Attr("sampling_ratio", IntAttr(ratio))
                                    .Attr("spatial_scale", FloatAttr((float)scale))
                                    .Inputs({x, Rois(), bi})
                                    .Reference([p](const std::vector<Tensor>& in) { return RefRoiAlign(in, p); }, Tol::Near(1e-5))
                                    .Label(std::string(max_mode ? "max" : "avg") + (half ? " half_pixel" : " output_half_pixel") +
                                           " ratio=" + std::to_string(ratio) + " out=" + std::to_string(oh) + "x" +
                                           std::to_string(ow) + " scale=" + std::to_string(scale))));
          }
}

// Opset 10 has no coordinate_transformation_mode: it behaves as output_half_pixel; opset 16's
// default is half_pixel.
TEST(RoiAlignOp, DefaultModeFollowsOpset) {
  Tensor x = Random({1, 2, 8, 8}, 9);
  Tensor bi = Tensor::FromInt64s({6}, {0, 0, 0, 0, 0, 0});
  RefParams old_p{false, false, 2, 2, 2, 1.0}, new_p{false, true, 2, 2, 2, 1.0};
  auto attrs = [](OpCase c) {
    return c.Attr("output_height", IntAttr(2)).Attr("output_width", IntAttr(2)).Attr("sampling_ratio", IntAttr(2));
  };
  EXPECT_TRUE(CheckOp(attrs(OpCase("RoiAlign", 10)).Inputs({x, Rois(), bi})
                          .Reference([old_p](const std::vector<Tensor>& in) { return RefRoiAlign(in, old_p); }, Tol::Near(1e-5))));
  EXPECT_TRUE(CheckOp(attrs(OpCase("RoiAlign", 16)).Inputs({x, Rois(), bi})
                          .Reference([new_p](const std::vector<Tensor>& in) { return RefRoiAlign(in, new_p); }, Tol::Near(1e-5))));
}

// The upgrade 10 -> 16 writes output_half_pixel, keeping opset 10's meaning: the graph gives
// the same outputs before and after.
TEST(RoiAlignOp, UpgradeKeepsOutputHalfPixel) {
  for (const char* mode : {"", "half_pixel", "output_half_pixel"}) {
    Graph g;
    g.info.opsets = {{"", 10}};
    int x = AddTestInput(g, "x", DType::kFloat32, {1, 2, 8, 8});
    int rois = AddTestInput(g, "rois", DType::kFloat32, {6, 4});
    int bi = AddTestInput(g, "bi", DType::kInt64, {6});
    int y = AddTestValue(g, "y");
    AttrList attrs = {{"output_height", IntAttr(2)}, {"sampling_ratio", IntAttr(2)}};
    const bool explicit_mode = *mode != 0;
    if (explicit_mode) attrs.emplace_back("coordinate_transformation_mode", StringAttr(mode));
    g.AddNode(MakeNode("RoiAlign", "ra", {x, rois, bi}, {y}, attrs, explicit_mode ? 16 : 10));
    g.outputs = {y};
    ASSERT_TRUE(PrepareGraph(g).ok());
    const std::map<std::string, Tensor> feeds = {
        {"x", Random({1, 2, 8, 8}, 3)}, {"rois", Rois()}, {"bi", Tensor::FromInt64s({6}, {0, 0, 0, 0, 0, 0})}};
    auto before = RunGraph(g, feeds);
    Status st = UpgradeOpset(g, 21);
    ASSERT_TRUE(st.ok()) << st.message();
    auto after = RunGraph(g, feeds);
    EXPECT_TRUE(TensorsNear(after.at("y"), before.at("y"), Tol::Exact(), mode));
    EXPECT_EQ(*g.nodes[0].GetString("coordinate_transformation_mode", ""), explicit_mode ? mode : "output_half_pixel");
  }
}

TEST(RoiAlignOp, ShapeRuleAndErrors) {
  auto inf = InferOp(OpCase("RoiAlign").Attr("output_height", IntAttr(7)).Attr("output_width", IntAttr(5)),
                     {Info(DType::kFloat32, {-1, 16, -1, -1}), Info(DType::kFloat32, {-1, 4}), Info(DType::kInt64, {9})});
  ASSERT_TRUE(inf.ok()) << inf.status().message();
  EXPECT_EQ((*inf)[0].shape, (Shape{9, 16, 7, 5}));
  Tensor x = Random({1, 2, 8, 8}, 9);
  EXPECT_FALSE(RunOp(OpCase("RoiAlign").Inputs({x, Rois(), Tensor::FromInt64s({6}, {0, 0, 0, 1, 0, 0})})).ok());  // batch 1 of 1
  EXPECT_FALSE(RunOp(OpCase("RoiAlign").Inputs({x, Rois(), Tensor::FromInt64s({5}, {0, 0, 0, 0, 0})})).ok());
  EXPECT_FALSE(RunOp(OpCase("RoiAlign").Inputs({Random({2, 8, 8}, 1), Rois(), Tensor::FromInt64s({6}, {0, 0, 0, 0, 0, 0})})).ok());
  EXPECT_FALSE(RunOp(OpCase("RoiAlign").Attr("mode", StringAttr("median")).Inputs({x, Rois(), Tensor::FromInt64s({6}, {0, 0, 0, 0, 0, 0})})).ok());
  EXPECT_FALSE(RunOp(OpCase("RoiAlign").Attr("output_height", IntAttr(0)).Inputs({x, Rois(), Tensor::FromInt64s({6}, {0, 0, 0, 0, 0, 0})})).ok());
  // A huge roi with adaptive sampling would need ~1e58 sampling points: an error, not an
  // allocation. NaN rois sample nothing (zeros).
  auto huge = RunOp(OpCase("RoiAlign").Inputs({x, Tensor::FromFloats({1, 4}, {0, 0, 1e30f, 1e30f}), Tensor::FromInt64s({1}, {0})}));
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.status().message().find("sampling points"), std::string::npos) << huge.status().message();
  const float nan = std::nanf("");
  EXPECT_TRUE(CheckOp(OpCase("RoiAlign").Inputs({x, Tensor::FromFloats({1, 4}, {nan, 0, 2, nan}), Tensor::FromInt64s({1}, {0})})
                          .Expect(Tensor::FromFloats({1, 2, 1, 1}, {0, 0}))));
  auto bad = RunOp(OpCase("RoiAlign").Attr("coordinate_transformation_mode", StringAttr("align_corners"))
                       .Inputs({x, Rois(), Tensor::FromInt64s({6}, {0, 0, 0, 0, 0, 0})}));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("RoiAlign"), std::string::npos);
}

}  // namespace
}  // namespace dopt
