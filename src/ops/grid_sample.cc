// GridSample: samples X [N, C, D1.., Dk] at the normalised locations of grid [N, O1.., Ok, k]
// (grid[..., 0] is the last, fastest dim: x, then y, ...), giving Y [N, C, O1.., Ok].
// Modes (opset 16: bilinear | nearest | bicubic; opset 20: linear | nearest | cubic, any k),
// padding_mode zeros | border | reflection, align_corners; as ONNX's reference implementation
// (PyTorch's grid_sampler): coordinates in float32, nearest rounds half to even, bicubic uses
// Keys' kernel with a = -0.75 and looks up its 4 taps through the padding mode.
#include <cmath>
#include <string>

#include "ops/op_upgrade.h"
#include "ops/op_util.h"
#include "ir/graph_edit.h"

namespace dopt {
namespace {

enum class Mode { kLinear, kNearest, kCubic };
enum class Padding { kZeros, kBorder, kReflection };

struct Attrs {
  Mode mode = Mode::kLinear;
  Padding padding = Padding::kZeros;
  bool align_corners = false;
};

StatusOr<Attrs> GetAttrs(const Node& node) {
  Attrs a;
  const bool v20 = node.opset_version >= 20;
  DOPT_ASSIGN_OR_RETURN(std::string mode, node.GetString("mode", v20 ? "linear" : "bilinear"));
  if (mode == (v20 ? "linear" : "bilinear")) a.mode = Mode::kLinear;
  else if (mode == "nearest") a.mode = Mode::kNearest;
  else if (mode == (v20 ? "cubic" : "bicubic")) a.mode = Mode::kCubic;
  else {
    return InvalidArgument(node.Describe() + ": mode must be " + (v20 ? "linear, nearest or cubic" : "bilinear, nearest or bicubic") +
                           " at opset " + std::to_string(node.opset_version) + ", got '" + mode + "'");
  }
  DOPT_ASSIGN_OR_RETURN(std::string pad, node.GetString("padding_mode", "zeros"));
  if (pad == "zeros") a.padding = Padding::kZeros;
  else if (pad == "border") a.padding = Padding::kBorder;
  else if (pad == "reflection") a.padding = Padding::kReflection;
  else return InvalidArgument(node.Describe() + ": padding_mode must be zeros, border or reflection, got '" + pad + "'");
  DOPT_ASSIGN_OR_RETURN(int64_t ac, node.GetInt("align_corners", 0));
  a.align_corners = ac != 0;
  return a;
}

Status CheckShapes(const Node& node, const Shape& x, const Shape& grid) {
  const int k = (int)x.size() - 2;
  if (k < 1 || (node.opset_version < 20 && k != 2)) {
    return InvalidArgument(node.Describe() + ": X must have rank " + (node.opset_version < 20 ? "4" : ">= 3") + ", got " +
                           ShapeToString(x));
  }
  if ((int)grid.size() != k + 2 || (grid.back() >= 0 && grid.back() != k) ||
      (grid[0] >= 0 && x[0] >= 0 && grid[0] != x[0])) {
    return InvalidArgument(node.Describe() + ": grid of shape " + ShapeToString(grid) + " for X of shape " + ShapeToString(x));
  }
  return Status::Ok();
}

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(GetAttrs(ctx.node()).status());
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  const ValueInfo& x = ctx.input(0);
  const ValueInfo& grid = ctx.input(1);
  if (!x.rank_known || !grid.rank_known) {
    ctx.SetOutputUnknownRank(0, x.dtype);
    return Status::Ok();
  }
  DOPT_RETURN_IF_ERROR(CheckShapes(ctx.node(), x.shape, grid.shape));
  Shape out = {x.shape[0] >= 0 ? x.shape[0] : grid.shape[0], x.shape[1]};
  for (size_t d = 1; d + 1 < grid.shape.size(); ++d) out.push_back(grid.shape[d]);
  ctx.SetOutput(0, x.dtype, out);
  return Status::Ok();
}

// Reflects x by the near border until it lies in [lo, hi] (x finite).
float Reflect(float x, float lo, float hi) {
  const float rng = hi - lo;
  if (!(rng > 0)) return lo;
  if (x < lo || x > hi) {
    const double dx = x < lo ? (double)lo - x : (double)x - hi;
    const double n = std::floor(dx / rng);
    // Far coordinates (|x| ~ 1e30) lose the remainder to rounding: clamp it into the range so
    // the result stays inside [lo, hi] (and every index cast in range).
    const float r = (float)std::min(std::max(dx - n * (double)rng, 0.0), (double)rng);
    const bool even = std::fmod(n, 2.0) == 0;
    if (x < lo) return even ? lo + r : hi - r;
    return even ? hi - r : lo + r;
  }
  return x;
}

void CubicCoeffs(float t, float c[4]) {
  constexpr float A = -0.75f;
  const float x = std::fabs(t);
  c[0] = ((A * (x + 1) - 5 * A) * (x + 1) + 8 * A) * (x + 1) - 4 * A;
  c[1] = ((A + 2) * x - (A + 3)) * x * x + 1;
  c[2] = ((A + 2) * (1 - x) - (A + 3)) * (1 - x) * (1 - x) + 1;
  c[3] = ((A * (2 - x) - 5 * A) * (2 - x) + 8 * A) * (2 - x) - 4 * A;
}

// The taps of one output location along one spatial dim of length len, at normalised coordinate
// nx: element indices through the padding mode (-1: a zero) and their weights (1, 2 or 4 of them).
void DimTaps(const Attrs& a, float nx, int64_t len, int64_t* id, float* wd) {
  float v = a.align_corners ? (nx + 1.f) / 2.f * (float)(len - 1) : ((nx + 1.f) * (float)len - 1.f) / 2.f;
  if (a.mode == Mode::kNearest) v = std::nearbyint(v);
  const float lo = a.align_corners ? 0.f : -0.5f;
  const float hi = a.align_corners ? (float)(len - 1) : (float)len - 0.5f;
  // A NaN or infinite coordinate reads as one far outside (zeros: 0; border: the edge).
  if (!std::isfinite(v)) v = v > 0 ? hi + 8.f : lo - 8.f;
  if (v < lo || v > hi) {
    if (a.padding == Padding::kBorder) v = std::min(std::max(v, 0.f), (float)(len - 1));
    else if (a.padding == Padding::kReflection) v = Reflect(v, lo, hi);
    // zeros: past 4 of the border every tap reads 0; keeps the index casts in range.
    else v = std::min(std::max(v, lo - 8.f), hi + 8.f);
  }
  // Index lookup through the padding mode (zeros: -1).
  auto at = [&](int64_t i) -> int64_t {
    if (i >= 0 && i < len) return i;
    if (a.padding == Padding::kZeros) return -1;
    if (a.padding == Padding::kBorder) return std::min<int64_t>(std::max<int64_t>(i, 0), len - 1);
    const int64_t r = (int64_t)Reflect((float)i, lo, hi);
    return std::min<int64_t>(std::max<int64_t>(r, 0), len - 1);
  };
  if (a.mode == Mode::kNearest) {
    id[0] = at((int64_t)v);  // truncation, as the reference's astype(int32)
    wd[0] = 1.f;
    return;
  }
  const float f = std::floor(v);
  const int64_t x0 = (int64_t)f;
  if (a.mode == Mode::kLinear) {
    const float tt = std::fabs(v - f);
    wd[0] = 1.f - tt;
    wd[1] = tt;
    id[0] = at(x0);
    id[1] = at(x0 + 1);
  } else {
    CubicCoeffs(v - f, wd);
    for (int j = 0; j < 4; ++j) id[j] = at(x0 - 1 + j);
  }
}

// 2-d bilinear (the deformable-attention detectors' GridSample: D-FINE, RT-DETR, Deformable DETR):
// the valid taps of a chunk of output locations first (offset and weight, in the general path's
// order, so the same sums), then each channel plane over those locations (the plane stays in
// cache, the output row is written in order). Chunks of at most 16K locations keep the taps
// under 600 KB whatever the grid (a 1-channel warp of a large image included).
void RunLinear2D(KernelContext& ctx, const Attrs& a, const float* xp, const float* gp, float* yp, int64_t N, int64_t C,
                 int64_t H, int64_t W, int64_t n_out) {
  struct Tap4 {
    int32_t off[4];
    float w[4];
    int32_t count;
  };
  constexpr int64_t kChunk = 16384, kPiece = 2048;
  std::vector<Tap4> taps((size_t)std::min(n_out, kChunk));
  const int64_t plane = H * W;
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t o0 = 0; o0 < n_out; o0 += kChunk) {
      const int64_t len = std::min(kChunk, n_out - o0);
      ParallelForOrInline(ctx.pool(), len, 1024, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          const float* g = gp + (n * n_out + o0 + i) * 2;
          int64_t iy[4], ix[4];
          float wy[4], wx[4];
          DimTaps(a, g[1], H, iy, wy);
          DimTaps(a, g[0], W, ix, wx);
          Tap4& t = taps[(size_t)i];
          t.count = 0;
          for (int j = 0; j < 2; ++j) {
            if (iy[j] < 0) continue;
            for (int k = 0; k < 2; ++k) {
              if (ix[k] < 0) continue;
              t.off[t.count] = (int32_t)(iy[j] * W + ix[k]);
              t.w[t.count] = (1.f * wy[j]) * wx[k];
              ++t.count;
            }
          }
        }
      });
      // Tasks of (channel, piece of the chunk's locations): parallel however few the channels.
      const int64_t pieces = (len + kPiece - 1) / kPiece;
      ParallelForOrInline(ctx.pool(), C * pieces, std::max<int64_t>(1, 8 / pieces), [&](int64_t b, int64_t e) {
        for (int64_t task = b; task < e; ++task) {
          const int64_t c = task / pieces, p0 = (task % pieces) * kPiece, p1 = std::min(len, p0 + kPiece);
          const float* xc = xp + (n * C + c) * plane;
          float* yo = yp + (n * C + c) * n_out + o0;
          for (int64_t o = p0; o < p1; ++o) {
            const Tap4& t = taps[(size_t)o];
            float acc = 0.f;
            for (int j = 0; j < t.count; ++j) acc += t.w[j] * xc[t.off[j]];
            yo[o] = acc;
          }
        }
      });
    }
  }
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& grid = ctx.input(1);
  DOPT_ASSIGN_OR_RETURN(Attrs a, GetAttrs(ctx.node()));
  DOPT_RETURN_IF_ERROR(CheckShapes(ctx.node(), x.shape(), grid.shape()));
  if (x.dtype() != DType::kFloat32 || grid.dtype() != DType::kFloat32) {
    return InvalidArgument(ctx.node().Describe() + ": expected float inputs");
  }
  const int k = x.rank() - 2;
  const int64_t N = x.dim(0), C = x.dim(1);
  Shape out = {N, C};
  int64_t n_out = 1;  // output locations per (n, c)
  for (int d = 1; d <= k; ++d) {
    out.push_back(grid.dim(d));
    n_out *= grid.dim(d);
  }
  std::vector<int64_t> dims(k), xstride(k);
  int64_t plane = 1;
  for (int d = k - 1; d >= 0; --d) {
    dims[d] = x.dim(d + 2);
    xstride[d] = plane;
    plane *= dims[d];
  }
  Tensor& y = ctx.OutputUninitialized(0, DType::kFloat32, out);
  if (y.numel() == 0) return Status::Ok();
  if (plane == 0) return InvalidArgument(ctx.node().Describe() + ": X has an empty spatial extent");
  const float* xp = x.data<float>();
  const float* gp = grid.data<float>();
  float* yp = y.data<float>();
  if (k == 2 && a.mode == Mode::kLinear && plane <= INT32_MAX) {
    RunLinear2D(ctx, a, xp, gp, yp, N, C, dims[0], dims[1], n_out);
    return Status::Ok();
  }
  const int taps = a.mode == Mode::kLinear ? 2 : a.mode == Mode::kCubic ? 4 : 1;
  int64_t combos = 1;
  for (int d = 0; d < k; ++d) combos *= taps;
  // One task per (n, output location): computes the taps once, then every channel.
  ParallelForOrInline(ctx.pool(), N * n_out, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, C * combos)),
                      [&](int64_t b, int64_t e) {
    std::vector<int64_t> idx(k * 4);  // per dim, per tap: element offset, or -1 for a zero
    std::vector<float> w(k * 4);
    std::vector<int> t(k);
    for (int64_t task = b; task < e; ++task) {
      const int64_t n = task / n_out, o = task % n_out;
      const float* g = gp + task * k;
      for (int d = 0; d < k; ++d) DimTaps(a, g[k - 1 - d], dims[d], &idx[d * 4], &w[d * 4]);
      for (int64_t c = 0; c < C; ++c) {
        const float* xc = xp + (n * C + c) * plane;
        // Sum over tap combinations, innermost dim fastest; dims with a zero tap contribute 0.
        std::fill(t.begin(), t.end(), 0);
        float acc = 0.f;
        for (int64_t m = 0; m < combos; ++m) {
          float wt = 1.f;
          int64_t off = 0;
          bool zero = false;
          for (int d = 0; d < k; ++d) {
            const int64_t i = idx[d * 4 + t[d]];
            if (i < 0) {
              zero = true;
              break;
            }
            wt *= w[d * 4 + t[d]];
            off += i * xstride[d];
          }
          if (!zero) acc += wt * xc[off];
          for (int d = k - 1; d >= 0; --d) {
            if (++t[d] < taps) break;
            t[d] = 0;
          }
        }
        yp[(n * C + c) * n_out + o] = acc;
      }
    }
  });
  return Status::Ok();
}

// Opset 20 renamed the modes bilinear -> linear and bicubic -> cubic (and allowed any rank).
Status Upgrade(Graph& g, int ni, int from, int to) {
  Node& n = g.nodes[ni];
  if (!OpsetCrosses(from, to, 20) || !n.HasAttr("mode")) return Status::Ok();
  DOPT_ASSIGN_OR_RETURN(std::string mode, n.GetString("mode", "bilinear"));
  if (mode == "bilinear" || mode == "bicubic") {
    SetAttr(n, "mode", StringAttr(mode == "bilinear" ? "linear" : "cubic"));
    n.dirty = true;
  }
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_GridSample() {
  static const OpDef def{
      .name = "GridSample",
      .min_inputs = 2,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = UpgradeBy(Upgrade),
      .quant = NoQuantRole(),  // interpolates (nearest would select, but the op is kept in float)
  };
  return def;
}

}  // namespace dopt
