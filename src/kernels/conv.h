// Float convolution kernels (NC[D]HW layout, 1-3 spatial dims handled as 3-D with size-1
// leading dims): im2col + SGEMM, a direct depthwise kernel, and transposed convolution.
#pragma once

#include <cstdint>
#include <vector>

#include "common/thread_pool.h"
#include "kernels/epilogue.h"

namespace dopt {
namespace kernels {

struct ConvGeom {
  int64_t N = 1, C = 1, M = 1, G = 1;  // batch, input channels, output channels, groups
  // Spatial geometry as 3-D (depth, height, width); missing leading dims are 1 / 0.
  int64_t in[3] = {1, 1, 1};
  int64_t out[3] = {1, 1, 1};
  int64_t k[3] = {1, 1, 1};
  int64_t s[3] = {1, 1, 1};
  int64_t d[3] = {1, 1, 1};
  int64_t pb[3] = {0, 0, 0};  // begin pads (end pads are implied by `out`)

  // Fills the 3-D fields from per-spatial-dim vectors of length 1, 2 or 3.
  void SetSpatial(const std::vector<int64_t>& in_, const std::vector<int64_t>& out_, const std::vector<int64_t>& k_,
                  const std::vector<int64_t>& s_, const std::vector<int64_t>& d_, const std::vector<int64_t>& pb_);
  int64_t InSize() const { return in[0] * in[1] * in[2]; }
  int64_t OutSize() const { return out[0] * out[1] * out[2]; }
  int64_t KSize() const { return k[0] * k[1] * k[2]; }
};

// Taps that read only padding for every output position add exact zeros (DeepLabV3's ASPP: 3x3
// convs dilated 24 and 36 on a 20x20 map, whose outer taps never reach the input; oneDNN's
// gemm-based kernel, the one it has for them on AVX2, computes them all). LiveTaps finds the live
// taps [lo, hi] of each spatial dim; true when some edge taps are dead and the conv on the live
// ones keeps a begin pad >= 0 and an end pad oneDNN can express (> -stride).
bool LiveTaps(const ConvGeom& g, int64_t lo[3], int64_t hi[3]);
// W [M, C/G, k...] cropped to taps [lo, hi] of each spatial dim, into `live`.
void CropTaps(const ConvGeom& g, const int64_t lo[3], const int64_t hi[3], const float* w, std::vector<float>* live);
// The geometry of the conv on taps [lo, hi] (kernel, begin pads, dilation of a 1-tap dim): the
// same output positions.
void TrimTaps(ConvGeom& g, const int64_t lo[3], const int64_t hi[3]);

// An elementwise activation applied to the convolution result (after the bias), fused into
// the kernel's epilogue while the output block is still in cache.
struct Activation {
  enum Kind { kNone, kRelu, kClip, kLeakyRelu };
  Kind kind = kNone;
  float alpha = 0.f;  // LeakyRelu slope
  float lo = 0.f, hi = 0.f;  // Clip bounds (use +-infinity for an absent bound)
  // Further element-wise steps after the activation (kernels/epilogue.h); null or empty: none.
  const std::vector<EpilogueStep>* epilogue = nullptr;

  bool HasEpilogue() const { return epilogue && !epilogue->empty(); }
};

// y[i] = act(y[i] + b) for i in [0, n); b is added only when add_bias.
void BiasActivate(float* y, int64_t n, bool add_bias, float b, const Activation& act);

// d[r * dld + c] = post(d[r * dld + c] + s[r * sld + c]) for `rows` rows of `cols` values: a
// Conv's fused residual Add and the activation after it (kNone or kRelu, as BiasActivate).
void AddResidual(float* d, int64_t dld, const float* s, int64_t sld, int64_t rows, int64_t cols, Activation::Kind post);

// y[N, M, out...] = act(conv(x[N, C, in...], w[M, C/G, k...]) + bias[M]) (bias may be null).
void ConvForward(const ConvGeom& g, const float* x, const float* w, const float* bias, float* y, ThreadPool* pool,
                 const Activation& act = Activation());

// Dense 2-D convolutions with at most this many output channels (prediction heads: a depth map,
// a mask), not pointwise, stride 1 along rows of at least 64 outputs, run a direct kernel (no
// im2col, whose matrix costs more than the few products it feeds); oneDNN declines them.
constexpr int64_t kFewOutputs = 2;
bool ConvFewOutputsPreferred(const ConvGeom& g);

// Transposed convolution: x[N, C, in...], w[C, M/G, k...], y[N, M, out...] (`out` given,
// `pb` are the begin pads). bias may be null.
void ConvTransposeForward(const ConvGeom& g, const float* x, const float* w, const float* bias, float* y,
                          ThreadPool* pool);

// Layout changes of n images of c channels by hw pixels: [n, c, hw] <-> [n, hw, c].
void ChannelsFirstToLast(const float* x, float* y, int64_t n, int64_t c, int64_t hw, ThreadPool* pool = nullptr);
void ChannelsLastToFirst(const float* x, float* y, int64_t n, int64_t c, int64_t hw, ThreadPool* pool = nullptr);

// Writes rows [all K rows] x columns [j0, j1) of the im2col matrix of one group's input
// (channels `cg`, starting at `x`) into `col` with row stride (j1 - j0).
void Im2Col(const ConvGeom& g, int64_t cg, const float* x, int64_t j0, int64_t j1, float* col);

}  // namespace kernels
}  // namespace dopt
