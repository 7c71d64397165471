// Float 2-D convolution through oneDNN (libdnnl 2.6, jit:avx2 / jit_dw kernels), used for the
// non-pointwise convolutions where it beats im2col + OpenBLAS (see docs/benchmarks.md).
#pragma once

#include "common/thread_pool.h"
#include "kernels/conv.h"

namespace dopt {
namespace kernels {

// Computes the same result as ConvForward (up to float rounding) and returns true, or returns
// false without touching y when this path does not handle the shape (then call ConvForward).
//
// Layout: x and y stay NCHW; x is reordered to nChw8c and each output-channel block back to
// NCHW inside the call. Threading: the output channels are split into blocks fixed by the shape
// (never by the thread count); each block is one single-threaded oneDNN primitive run on a dopt
// pool thread, so the total thread count is the pool's and results do not depend on it.
// Primitives and reordered weights are cached by (weight pointer, shapes, attributes); a hit
// also compares the weight values with a kept copy, so a reused address cannot serve stale
// weights. DOPT_CONV_ONEDNN=0 in the environment disables this path.
bool ConvForwardOneDnn(const ConvGeom& g, const float* x, const float* w, const float* bias, float* y,
                       ThreadPool* pool, const Activation& act);

}  // namespace kernels
}  // namespace dopt
