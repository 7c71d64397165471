// RoiAlign: X [N, C, H, W] float, rois [R, 4] float (x1, y1, x2, y2 in X's coordinates before
// spatial_scale), batch_indices [R] int64 -> Y [R, C, output_height, output_width]. Each output
// bin samples a sampling_ratio x sampling_ratio grid (0: ceil(roi size / output size) per
// axis) bilinearly and averages (mode avg) or takes the max (mode max) of the samples.
// coordinate_transformation_mode (opset 16): half_pixel (the default from 16) shifts the roi by
// -0.5 pixel; output_half_pixel (opset 10's behaviour) does not and makes rois at least 1x1.
// The upgrade rule 10 -> 16 writes output_half_pixel explicitly, so the meaning is kept.
// Max mode follows ONNX's reference and ONNX Runtime: the max over samples of the max of the
// four *weighted* corner values (not of the interpolated value). Samples outside
// [-1, H] x [-1, W] count as 0.
#include <algorithm>
#include <cmath>

#include "common/limits.h"
#include "ir/graph_edit.h"
#include "ops/op_upgrade.h"
#include "ops/op_util.h"

namespace dopt {
namespace {

struct RoiAlignAttrs {
  bool max_mode = false;
  bool half_pixel = true;
  int64_t out_h = 1, out_w = 1;
  int64_t sampling_ratio = 0;
  float spatial_scale = 1.f;
};

StatusOr<RoiAlignAttrs> ReadAttrs(const Node& node) {
  RoiAlignAttrs a;
  DOPT_ASSIGN_OR_RETURN(std::string mode, node.GetString("mode", "avg"));
  if (mode != "avg" && mode != "max") return InvalidArgument(node.Describe() + ": mode must be 'avg' or 'max', got '" + mode + "'");
  a.max_mode = mode == "max";
  const std::string def_ctm = node.opset_version > 0 && node.opset_version < 16 ? "output_half_pixel" : "half_pixel";
  DOPT_ASSIGN_OR_RETURN(std::string ctm, node.GetString("coordinate_transformation_mode", def_ctm));
  if (ctm != "half_pixel" && ctm != "output_half_pixel")
    return InvalidArgument(node.Describe() + ": coordinate_transformation_mode must be 'half_pixel' or 'output_half_pixel', got '" + ctm + "'");
  a.half_pixel = ctm == "half_pixel";
  DOPT_ASSIGN_OR_RETURN(a.out_h, node.GetInt("output_height", 1));
  DOPT_ASSIGN_OR_RETURN(a.out_w, node.GetInt("output_width", 1));
  if (a.out_h < 1 || a.out_w < 1 || a.out_h > (int64_t{1} << 20) || a.out_w > (int64_t{1} << 20))
    return InvalidArgument(node.Describe() + ": output_height and output_width must be in [1, 2^20], got " +
                           std::to_string(a.out_h) + " and " + std::to_string(a.out_w));
  DOPT_ASSIGN_OR_RETURN(a.sampling_ratio, node.GetInt("sampling_ratio", 0));
  if (a.sampling_ratio < 0 || a.sampling_ratio > 4096)
    return InvalidArgument(node.Describe() + ": sampling_ratio must be in [0, 4096], got " + std::to_string(a.sampling_ratio));
  DOPT_ASSIGN_OR_RETURN(a.spatial_scale, node.GetFloat("spatial_scale", 1.f));
  return a;
}

Status CheckShapes(const Node& node, const Shape& x, const Shape& rois, const Shape& bi) {
  if (x.size() != 4) return InvalidArgument(node.Describe() + ": X must be 4-D [N, C, H, W], got " + ShapeToString(x));
  if (rois.size() != 2 || (rois[1] >= 0 && rois[1] != 4))
    return InvalidArgument(node.Describe() + ": rois must be [num_rois, 4], got " + ShapeToString(rois));
  if (bi.size() != 1) return InvalidArgument(node.Describe() + ": batch_indices must be 1-D, got " + ShapeToString(bi));
  if (rois[0] >= 0 && bi[0] >= 0 && rois[0] != bi[0])
    return InvalidArgument(node.Describe() + ": rois " + ShapeToString(rois) + " and batch_indices " + ShapeToString(bi) +
                           " disagree on the number of rois");
  return Status::Ok();
}

Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 2, {DType::kInt64}));
  DOPT_ASSIGN_OR_RETURN(RoiAlignAttrs a, ReadAttrs(node));
  const ValueInfo &x = ctx.input(0), &rois = ctx.input(1), &bi = ctx.input(2);
  Shape xs = x.rank_known ? x.shape : Shape{-1, -1, -1, -1};
  Shape rs = rois.rank_known ? rois.shape : Shape{-1, 4};
  Shape bs = bi.rank_known ? bi.shape : Shape{-1};
  DOPT_RETURN_IF_ERROR(CheckShapes(node, xs, rs, bs));
  ctx.SetOutput(0, x.dtype, {rs[0] >= 0 ? rs[0] : bs[0], xs[1], a.out_h, a.out_w});
  return Status::Ok();
}

// One bilinear sample: four flat positions in an H x W plane and their weights.
struct Sample {
  int64_t pos[4];
  float w[4];
};

// The samples of one roi, bin by bin (ph, pw), each bin's grid row-major; as ONNX's reference
// pre_calc_for_bilinear_interpolate.
void PrecomputeSamples(int64_t height, int64_t width, const RoiAlignAttrs& a, float start_h, float start_w,
                       float bin_h, float bin_w, int64_t grid_h, int64_t grid_w, std::vector<Sample>* out) {
  out->clear();
  for (int64_t ph = 0; ph < a.out_h; ++ph)
    for (int64_t pw = 0; pw < a.out_w; ++pw)
      for (int64_t iy = 0; iy < grid_h; ++iy) {
        const float yy = start_h + (float)ph * bin_h + ((float)iy + 0.5f) * bin_h / (float)grid_h;
        for (int64_t ix = 0; ix < grid_w; ++ix) {
          float x = start_w + (float)pw * bin_w + ((float)ix + 0.5f) * bin_w / (float)grid_w;
          float y = yy;
          Sample s{};
          if (!(y >= -1.f && y <= (float)height && x >= -1.f && x <= (float)width)) {
            out->push_back(s);  // zero weights
            continue;
          }
          y = std::max(y, 0.f);
          x = std::max(x, 0.f);
          int64_t y_low = (int64_t)y, x_low = (int64_t)x, y_high, x_high;
          if (y_low >= height - 1) {
            y_high = y_low = height - 1;
            y = (float)y_low;
          } else {
            y_high = y_low + 1;
          }
          if (x_low >= width - 1) {
            x_high = x_low = width - 1;
            x = (float)x_low;
          } else {
            x_high = x_low + 1;
          }
          const float ly = y - (float)y_low, lx = x - (float)x_low, hy = 1.f - ly, hx = 1.f - lx;
          s.pos[0] = y_low * width + x_low;
          s.pos[1] = y_low * width + x_high;
          s.pos[2] = y_high * width + x_low;
          s.pos[3] = y_high * width + x_high;
          s.w[0] = hy * hx;
          s.w[1] = hy * lx;
          s.w[2] = ly * hx;
          s.w[3] = ly * lx;
          out->push_back(s);
        }
      }
}

// ceil(size / bins) as a grid count, clamped to [0, 2^16] (a roi's own coordinates decide it).
int64_t AdaptiveGrid(float size, int64_t bins) {
  const double g = std::ceil((double)size / (double)bins);
  if (!(g > 0)) return 0;
  return (int64_t)std::min(g, 65536.0);
}

// Where one roi's bins start, their size and the sampling grid per bin (as the reference).
struct RoiGrid {
  float start_h, start_w, bin_h, bin_w;
  int64_t grid_h, grid_w;
};

RoiGrid GridOf(const RoiAlignAttrs& a, const float* roi) {
  const float offset = a.half_pixel ? 0.5f : 0.f;
  RoiGrid g;
  g.start_w = roi[0] * a.spatial_scale - offset;
  g.start_h = roi[1] * a.spatial_scale - offset;
  const float end_w = roi[2] * a.spatial_scale - offset, end_h = roi[3] * a.spatial_scale - offset;
  float roi_w = end_w - g.start_w, roi_h = end_h - g.start_h;
  if (!a.half_pixel) {
    roi_w = std::max(roi_w, 1.f);
    roi_h = std::max(roi_h, 1.f);
  }
  g.bin_h = roi_h / (float)a.out_h;
  g.bin_w = roi_w / (float)a.out_w;
  g.grid_h = a.sampling_ratio > 0 ? a.sampling_ratio : AdaptiveGrid(roi_h, a.out_h);
  g.grid_w = a.sampling_ratio > 0 ? a.sampling_ratio : AdaptiveGrid(roi_w, a.out_w);
  return g;
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  DOPT_ASSIGN_OR_RETURN(RoiAlignAttrs a, ReadAttrs(node));
  const Tensor& x = ctx.input(0);
  const Tensor rois = ToComputeDType(ctx.input(1));
  const Tensor& bi = ctx.input(2);
  DOPT_RETURN_IF_ERROR(CheckShapes(node, x.shape(), rois.shape(), bi.shape()));
  if (x.dtype() != DType::kFloat32 || rois.dtype() != DType::kFloat32)
    return InvalidArgument(node.Describe() + ": X and rois must be float");
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), r = rois.dim(0);
  const std::vector<int64_t> batch = bi.ToInt64Vector();
  for (int64_t i = 0; i < r; ++i)
    if (batch[i] < 0 || batch[i] >= n)
      return InvalidArgument(node.Describe() + ": batch_indices[" + std::to_string(i) + "] = " + std::to_string(batch[i]) +
                             " is outside [0, " + std::to_string(n) + ")");
  if (r > 0 && c > 0 && (h == 0 || w == 0)) return InvalidArgument(node.Describe() + ": X has an empty spatial plane " + ShapeToString(x.shape()));
  if ((double)r * (double)c * (double)a.out_h * (double)a.out_w > (double)kMaxTensorElements)
    return InvalidArgument(node.Describe() + ": the output would have more than " + std::to_string(kMaxTensorElements) + " elements");
  Tensor& y = ctx.OutputUninitialized(0, DType::kFloat32, {r, c, a.out_h, a.out_w});
  const float* xp = x.data<float>();
  const float* rp = rois.data<float>();
  float* yp = y.data<float>();
  const int64_t plane = a.out_h * a.out_w;
  // Sampling points of one roi, precomputed (48 bytes each): a bound against hostile rois with
  // adaptive sampling (a 1e30-pixel roi) and attributes; real detectors use a few thousand.
  constexpr double kMaxSamples = double(int64_t{1} << 22);
  for (int64_t i = 0; i < r; ++i) {
    const RoiGrid g = GridOf(a, rp + i * 4);
    if ((double)plane * (double)g.grid_h * (double)g.grid_w > kMaxSamples)
      return InvalidArgument(node.Describe() + ": roi " + std::to_string(i) + " needs " + std::to_string(plane) + " x " +
                             std::to_string(g.grid_h) + " x " + std::to_string(g.grid_w) + " sampling points, more than " +
                             std::to_string((int64_t)kMaxSamples) + "; give sampling_ratio or smaller rois");
  }
  auto body = [&](int64_t r0, int64_t r1) {
    std::vector<Sample> samples;
    for (int64_t i = r0; i < r1; ++i) {
      const RoiGrid g = GridOf(a, rp + i * 4);
      const int64_t grid_h = g.grid_h, grid_w = g.grid_w;
      const float count = (float)std::max<int64_t>(grid_h * grid_w, 1);
      PrecomputeSamples(h, w, a, g.start_h, g.start_w, g.bin_h, g.bin_w, grid_h, grid_w, &samples);
      const int64_t per_bin = grid_h * grid_w;
      for (int64_t ch = 0; ch < c; ++ch) {
        const float* src = xp + (batch[i] * c + ch) * h * w;
        float* dst = yp + (i * c + ch) * plane;
        for (int64_t b = 0; b < plane; ++b) {
          const Sample* s = samples.data() + b * per_bin;
          float v = 0.f;
          if (!a.max_mode) {
            for (int64_t k = 0; k < per_bin; ++k)
              v += s[k].w[0] * src[s[k].pos[0]] + s[k].w[1] * src[s[k].pos[1]] + s[k].w[2] * src[s[k].pos[2]] +
                   s[k].w[3] * src[s[k].pos[3]];
            v /= count;
          } else {
            for (int64_t k = 0; k < per_bin; ++k) {
              const float m = std::max(std::max(s[k].w[0] * src[s[k].pos[0]], s[k].w[1] * src[s[k].pos[1]]),
                                       std::max(s[k].w[2] * src[s[k].pos[2]], s[k].w[3] * src[s[k].pos[3]]));
              v = k == 0 ? m : std::max(v, m);
            }
          }
          dst[b] = v;
        }
      }
    }
  };
  ParallelForOrInline(ctx.pool(), r, 1, body);
  return Status::Ok();
}

// RoiAlign-10 -> 16: 16 added coordinate_transformation_mode with default half_pixel; opset
// 10's behaviour is output_half_pixel, written explicitly.
Status Upgrade(Graph& g, int ni, int from, int to) {
  if (!OpsetCrosses(from, to, 16)) return Status::Ok();
  Node& n = g.nodes[ni];
  if (n.HasAttr("coordinate_transformation_mode")) return Status::Ok();
  SetAttr(n, "coordinate_transformation_mode", StringAttr("output_half_pixel"));
  n.dirty = true;
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_RoiAlign() {
  static const OpDef def{
      .name = "RoiAlign",
      .min_inputs = 3,
      .max_inputs = 3,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = UpgradeBy(Upgrade),  // 16: coordinate_transformation_mode (default half_pixel)
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
