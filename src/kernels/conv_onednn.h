// Float 2-D convolution through oneDNN (libdnnl 2.6), used for the non-pointwise convolutions
// where it beats im2col + OpenBLAS (see docs/benchmarks.md). Which oneDNN kernel runs, and in
// which memory layout, is oneDNN's choice for the CPU (jit:avx2 with nChw8c on AVX2 hosts,
// brgconv with nhwc on AVX-512 ones, ...); this file accepts any plain or channel-blocked layout.
#pragma once

#include <memory>
#include <string>

#include "common/thread_pool.h"
#include "kernels/conv.h"

namespace dopt {
namespace kernels {

// Computes the same result as ConvForward (up to float rounding) and returns true, or returns
// false without touching y when this path does not handle the case (then call ConvForward):
// not 2-D, pointwise (1x1 stride 1: OpenBLAS is as fast), grouped but not depthwise, a oneDNN
// error, DOPT_CONV_ONEDNN=0, or the reference kernels forced (DOPT_REFERENCE_KERNELS=1,
// common/kernel_options.h).
//
// Layout: x and y stay NCHW at the call boundary. The primitive's source and destination use
// the layout oneDNN prefers on this CPU (plain nchw / nhwc or channel-blocked nChw8c / nChw16c,
// with any channel count: blocked layouts are zero-padded); x is reordered to it (dense: once per
// image, in row chunks on the pool; depthwise: per output-channel block) and each block's result
// is reordered back into its channels of y.
// Threading: the output channels are split into blocks fixed by the shape and the layout
// (never by the thread count); each block is one single-threaded oneDNN primitive run on a dopt
// pool thread, so the total thread count is the pool's and results do not depend on it.
// Primitives and reordered weights are cached by (weight pointer, shapes, attributes); a hit
// also compares the weight values with a kept copy, so a reused address cannot serve stale
// weights.
//
// `cache` (may be null): for weights that stay the same at the same address while the caller
// lives (an executor's constant input), a slot of the caller's where this conv's primitives are
// kept; later calls then skip the shared cache, its lock and the weight comparison, and no copy
// of the weights is kept.
bool ConvForwardOneDnn(const ConvGeom& g, const float* x, const float* w, const float* bias, float* y,
                       ThreadPool* pool, const Activation& act, std::shared_ptr<void>* cache = nullptr);

// What ConvForwardOneDnn does for this case, for logs and tests: "" when it declines, else the
// oneDNN implementation, the source / destination layouts and the block count, e.g.
// "brgconv:avx512_core src nhwc dst nhwc, 2 blocks". Never decides anything.
std::string DescribeConvOneDnn(const ConvGeom& g, const float* w, const Activation& act);

// Channels-last variant for the executor's channels_last pass (passes/channels_last.h):
// x is [N, H, W, C] and y [N, OH, OW, M] (NHWC), any 2-D dense or depthwise convolution,
// pointwise ones included. oneDNN runs it on NHWC directly (no reorders of activations). Each
// image's output rows are split into blocks fixed by the shape (never by the thread count),
// each block one single-threaded primitive over the input rows it needs (its own top / bottom
// padding) on a dopt pool thread. Returns false without touching y when it declines (as
// ConvForwardOneDnn, or when oneDNN offers only its reference kernel for NHWC). With a
// `residual` [N, OH, OW, M], each block then adds its part of it and applies `post` (kNone or
// kRelu) while the block's output is in cache (AddResidual: a Conv's fused Add -> Relu).
bool ConvForwardOneDnnNhwc(const ConvGeom& g, const float* x, const float* w, const float* bias, float* y,
                           ThreadPool* pool, const Activation& act, std::shared_ptr<void>* cache = nullptr,
                           const float* residual = nullptr, Activation::Kind post = Activation::kNone);
// Whether ConvForwardOneDnnNhwc may run this shape (2-D, dense or depthwise) with the path on
// (DOPT_CONV_ONEDNN not 0, reference kernels not forced); it can still decline at run time.
bool ConvOneDnnNhwcMayRun(const ConvGeom& g);

// Tests only: the source / destination layout to ask oneDNN for instead of its preferred one,
// so that every layout's reorders and channel padding are exercised on any CPU. A layout that
// oneDNN cannot run makes the path decline (never a wrong result).
enum class OneDnnLayout { kPreferred, kNchw, kNhwc, kNChw8c, kNChw16c };
void SetConvOneDnnLayoutForTesting(OneDnnLayout layout);

}  // namespace kernels
}  // namespace dopt
