// One row against a constant matrix stored [N, K]: y[0, N) = alpha * x[0, K] * B^T + beta * y,
// the Gemm (transB = 1) of a classifier head on one image (1280 -> 1000: 5 MB of weights read
// for 1.3M multiply-adds). oneDNN's packed matmul took 0.5 ms for MnasNet's head on a Zen 4
// against 0.35 for these dot products, streaming B as it is, 16 (AVX-512) or 8 (AVX2) floats at
// a time. ([K, N] weights: not measured faster, left to the packed matmul.)
//
// Rows of B are split into blocks of 256 fixed by N, never by the thread count, and each output
// sums its K products in one fixed order: results do not depend on the threads. They differ
// between the AVX-512 and AVX2 versions (lane partial sums) as oneDNN's do.
#pragma once

#include <cstdint>

#include "common/thread_pool.h"

namespace dopt {
namespace kernels {

// B row-major with leading dim ldb, [N, K] (trans_b); beta 0 (y not read) or 1. Returns false
// without touching y where it does not run: !trans_b, a CPU without AVX2 + FMA, the reference
// kernels forced (common/kernel_options.h), another beta or an empty shape.
bool SgemvConstantB(ThreadPool* pool, bool trans_b, int64_t K, int64_t N, float alpha, const float* x,
                    const float* B, int64_t ldb, float beta, float* y);

}  // namespace kernels
}  // namespace dopt
