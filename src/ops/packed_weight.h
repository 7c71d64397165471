// MatMul and Gemm with a constant weight: the weight prepacked once per executor
// (kernels/gemm_packed.h) and kept in the node's state (KernelContext::node_state).
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/epilogue.h"
#include "ops/op.h"

namespace dopt {

// Y[M, N] = alpha * A[M, K] * op(B) + beta * Y through the node's prepacked copy of op(B),
// where B is input `b_input` of the node (float32, [K, N] row-major, or [N, K] with trans_b).
// Returns false, touching nothing, when that is not possible: B is not a constant of the
// executor running the node (or no executor runs it), the packed path declines (reference
// kernels forced, DOPT_MATMUL_ONEDNN=0, beta not 0 or 1, ...). Then compute with Sgemm.
// `epilogue` (alpha 1, beta 0 only): applied to Y's columns as channels, block by block.
bool SgemmWithConstantB(KernelContext& ctx, int b_input, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                        const float* A, int64_t lda, float beta, float* Y, int64_t ldy,
                        const std::vector<kernels::EpilogueStep>* epilogue = nullptr);

}  // namespace dopt
