// Single-precision GEMM on OpenBLAS, parallelised with dopt's own thread pool.
// OpenBLAS is put in single-threaded mode so that the total thread count equals the pool's
// (--num_threads); each pool thread calls sgemm on its own block of C.
// With DOPT_REFERENCE_KERNELS=1 (common/kernel_options.h) every call runs SgemmReference
// instead of OpenBLAS.
#pragma once

#include <cstdint>

#include "common/thread_pool.h"

namespace dopt {
namespace kernels {

// Which library computes a block: OpenBLAS, or oneDNN's sgemm (dnnl_sgemm, single-threaded),
// which has AVX-512 kernels where the packaged OpenBLAS has none for AMD CPUs (it runs its
// Haswell kernels on Zen 4/5: 1500x1500x64 in 2.4 ms against oneDNN's 1.2 ms; equal on AVX2).
// kOneDnn falls back to OpenBLAS with DOPT_MATMUL_ONEDNN=0 or a oneDNN error.
enum class GemmEngine { kBlas, kOneDnn };

// C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C, all row-major with leading dims.
// Single-threaded.
void SgemmSerial(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                 int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
                 GemmEngine engine = GemmEngine::kBlas);

// The reference kernel: plain loops, each element of C summed in order k = 0..K-1 in float,
// then C = alpha * sum + beta * C (C is not read when beta == 0). Single-threaded; what
// SgemmSerial runs when the reference kernels are forced.
void SgemmReference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                    int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// C[M, N] = A[M, K] * B[K, N], all dense row-major, through a oneDNN matmul primitive with the
// brgemm kernel (AVX-512 CPUs), made once per shape and kept for the process; single-threaded.
// B is read as it is (no prepacking: it may be an activation, e.g. the NCHW input of a 1x1
// conv). Returns false without touching C where oneDNN offers no brgemm kernel for the shape
// (AVX2 CPUs), with DOPT_MATMUL_ONEDNN=0 or the reference kernels forced: then use SgemmSerial.
// The same shape always takes the same kernel, so results do not depend on the caller's threads.
bool SgemmDenseOneDnn(int64_t M, int64_t N, int64_t K, const float* A, const float* B, float* C);
// Whether SgemmDenseOneDnn runs this shape (makes its primitive once; computes nothing).
bool SgemmDenseOneDnnHandles(int64_t M, int64_t N, int64_t K);

// Whether Sgemm runs this shape as one SgemmSerial call (too small to split): callers with many
// such GEMMs (a batch) may then spread the calls themselves, with the same bits.
bool SgemmIsOneCall(int64_t M, int64_t N, int64_t K);

// Same as SgemmSerial, split over the pool (by rows of C or columns of C, whichever is larger). Each element
// of C is computed by one sgemm call with the same K order, so results do not depend on the
// thread count. `pool` may be null.
void Sgemm(ThreadPool* pool, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
           const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
           GemmEngine engine = GemmEngine::kBlas);

}  // namespace kernels
}  // namespace dopt
