// SGEMM with a constant right operand prepacked once (oneDNN matmul, libdnnl 2.6): for MatMul /
// Gemm whose weight is a model constant, where OpenBLAS would re-pack B on every call (which
// dominates at the few rows of a transformer's tokens).
//
// The caller owns the packed operand and decides when B may be trusted to be unchanged: it
// keeps no copy of B and never re-reads it. ops/ keep one per node inside the executor that runs
// it, for inputs that are that executor's constants (KernelContext::node_state).
//
// Threading: the columns of C are split into blocks fixed by N (never by the thread count);
// each block is one single-threaded oneDNN primitive with its own packed slice of B, run on a
// dopt pool thread, so the total thread count is the pool's and results do not depend on it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/thread_pool.h"
#include "kernels/epilogue.h"

namespace dopt {
namespace kernels {

struct PackedGemmBImpl;  // gemm_packed.cc

class PackedGemmB {
 public:
  int64_t K() const;
  int64_t N() const;
  // "brg:avx512_core, 6 blocks" once a multiply ran (the oneDNN implementation of the first
  // block's primitive for the last M), for logs and tests.
  std::string Describe() const;
  std::shared_ptr<PackedGemmBImpl> impl;
};

// Packs op(B) [K, N] (B row-major with leading dim ldb; trans_b: B is [N, K]) in the layout
// oneDNN picks for A with m_hint rows (other M reuse it). Returns nullptr
// when this path is off: DOPT_MATMUL_ONEDNN=0, the reference kernels forced
// (DOPT_REFERENCE_KERNELS=1, common/kernel_options.h), an empty shape, a oneDNN error or only
// oneDNN's reference implementation available (slower than OpenBLAS).
std::unique_ptr<PackedGemmB> PackGemmB(bool trans_b, int64_t K, int64_t N, const float* B, int64_t ldb,
                                       int64_t m_hint);

// C[M, N] = alpha * A[M, K] * op(B) + beta * C (A row-major, leading dim lda; C leading dim
// ldc). beta must be 0 (C not read) or 1. Returns false without touching C when it cannot run
// (then use Sgemm with the original B): another beta, a oneDNN error (or only its reference
// implementation for this M: then every call with this M does). Each M gets its own primitives;
// after 16 distinct M they are dropped and made again, never a fallback, so one M's result does
// not depend on the calls before it.
// `epilogue` (non-empty: alpha must be 1 and beta 0, else false): element-wise steps applied to
// each block of C while it is in cache, C's columns being the channels (kernels/epilogue.h).
bool SgemmPackedB(ThreadPool* pool, PackedGemmB& b, int64_t M, float alpha, const float* A, int64_t lda, float beta,
                  float* C, int64_t ldc, const std::vector<EpilogueStep>* epilogue = nullptr);

}  // namespace kernels
}  // namespace dopt
