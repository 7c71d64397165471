#include "ops/packed_weight.h"

#include "kernels/gemm_packed.h"
#include "kernels/gemv.h"

namespace dopt {

namespace {

// What a node keeps: op(B) packed, and what it was packed from. The executor's constants keep
// their buffer and values for its lifetime, so the address and the shape identify them.
struct PackedWeightState {
  const float* b = nullptr;
  bool trans_b = false;
  int64_t K = 0, N = 0;
  std::unique_ptr<kernels::PackedGemmB> packed;  // null: the packed path declined
};

}  // namespace

bool SgemmWithConstantB(KernelContext& ctx, int b_input, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                        const float* A, int64_t lda, float beta, float* Y, int64_t ldy,
                        const std::vector<kernels::EpilogueStep>* epilogue) {
  std::shared_ptr<void>* slot = ctx.node_state();
  if (!slot || !ctx.input_is_constant(b_input) || M <= 0 || N <= 0 || K <= 0) return false;
  const Tensor& b = ctx.input(b_input);
  if (b.dtype() != DType::kFloat32 || b.numel() != K * N) return false;
  const float* bp = b.data<float>();
  // One row against B [N, K] (a classifier head's Gemm on one image): B read as it is.
  if (M == 1 && (!epilogue || epilogue->empty()) &&
      kernels::SgemvConstantB(ctx.pool(), trans_b, K, N, alpha, A, bp, trans_b ? K : N, beta, Y)) {
    return true;
  }
  auto st = std::static_pointer_cast<PackedWeightState>(*slot);
  if (!st || st->b != bp || st->trans_b != trans_b || st->K != K || st->N != N) {
    st = std::make_shared<PackedWeightState>();
    st->b = bp;
    st->trans_b = trans_b;
    st->K = K;
    st->N = N;
    st->packed = kernels::PackGemmB(trans_b, K, N, bp, trans_b ? K : N, M);
    *slot = st;
  }
  if (!st->packed) return false;
  return kernels::SgemmPackedB(ctx.pool(), *st->packed, M, alpha, A, lda, beta, Y, ldy, epilogue);
}

}  // namespace dopt
