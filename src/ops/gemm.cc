// Gemm: Y = alpha * op(A) * op(B) + beta * C, with transA/transB and C broadcast to [M, N]
// (unidirectionally); C is optional from opset 11. SGEMM from OpenBLAS, or with a constant B
// and no transA that B prepacked once per executor (ops/packed_weight.h).
#include "kernels/gemm.h"
#include "ops/op_util.h"
#include "ops/packed_weight.h"

namespace dopt {
namespace {

#define FLOAT_TYPES {DType::kFloat32, DType::kFloat16, DType::kBFloat16}

Status CheckCBroadcast(const Node& node, const Shape& c, int64_t M, int64_t N) {
  if (c.size() > 2) return InvalidArgument(node.Describe() + ": C must have rank <= 2, got " + ShapeToString(c));
  const int64_t want[2] = {M, N};
  for (size_t i = 0; i < c.size(); ++i) {
    const int64_t d = c[c.size() - 1 - i], o = want[1 - i];
    if (d >= 0 && o >= 0 && d != 1 && d != o) {
      return InvalidArgument(node.Describe() + ": C " + ShapeToString(c) + " does not broadcast to [" +
                             std::to_string(M) + ", " + std::to_string(N) + "]");
    }
  }
  return Status::Ok();
}

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, FLOAT_TYPES));
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, FLOAT_TYPES));
  if (ctx.has_input(2)) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 2, FLOAT_TYPES));
  const Node& node = ctx.node();
  DOPT_ASSIGN_OR_RETURN(int64_t ta, node.GetInt("transA", 0));
  DOPT_ASSIGN_OR_RETURN(int64_t tb, node.GetInt("transB", 0));
  const ValueInfo& a = ctx.input(0);
  const ValueInfo& b = ctx.input(1);
  int64_t M = -1, N = -1, Ka = -1, Kb = -1;
  if (a.rank_known) {
    if (a.shape.size() != 2) return InvalidArgument(node.Describe() + ": A must be 2-D, got " + ShapeToString(a.shape));
    M = a.shape[ta ? 1 : 0];
    Ka = a.shape[ta ? 0 : 1];
  }
  if (b.rank_known) {
    if (b.shape.size() != 2) return InvalidArgument(node.Describe() + ": B must be 2-D, got " + ShapeToString(b.shape));
    N = b.shape[tb ? 0 : 1];
    Kb = b.shape[tb ? 1 : 0];
  }
  if (Ka >= 0 && Kb >= 0 && Ka != Kb) {
    return InvalidArgument(node.Describe() + ": inner dimensions differ: A " + ShapeToString(a.shape) + " and B " +
                           ShapeToString(b.shape) + " with transA=" + std::to_string(ta) + ", transB=" + std::to_string(tb));
  }
  if (ctx.has_input(2) && ctx.input(2).rank_known) DOPT_RETURN_IF_ERROR(CheckCBroadcast(node, ctx.input(2).shape, M, N));
  ctx.SetOutput(0, a.dtype != DType::kUndefined ? a.dtype : b.dtype, {M, N});
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  if (a.dtype() != DType::kFloat32 || b.dtype() != DType::kFloat32) {
    return InvalidArgument(node.Describe() + ": expected float inputs, got " + DTypeName(a.dtype()) + " and " +
                           DTypeName(b.dtype()));
  }
  DOPT_ASSIGN_OR_RETURN(int64_t ta, node.GetInt("transA", 0));
  DOPT_ASSIGN_OR_RETURN(int64_t tb, node.GetInt("transB", 0));
  DOPT_ASSIGN_OR_RETURN(float alpha, node.GetFloat("alpha", 1.f));
  DOPT_ASSIGN_OR_RETURN(float beta, node.GetFloat("beta", 1.f));
  if (a.rank() != 2 || b.rank() != 2) {
    return InvalidArgument(node.Describe() + ": A and B must be 2-D, got " + ShapeToString(a.shape()) + " and " +
                           ShapeToString(b.shape()));
  }
  const int64_t M = a.dim(ta ? 1 : 0), K = a.dim(ta ? 0 : 1), N = b.dim(tb ? 0 : 1);
  if (b.dim(tb ? 1 : 0) != K) {
    return InvalidArgument(node.Describe() + ": inner dimensions differ: A " + ShapeToString(a.shape()) + " and B " +
                           ShapeToString(b.shape()));
  }
  Tensor& y = ctx.OutputUninitialized(0, DType::kFloat32, {M, N});
  float* yp = y.data<float>();
  bool use_c = false;
  if (ctx.has_input(2) && beta != 0.f) {
    const Tensor& c = ctx.input(2);
    if (c.dtype() != DType::kFloat32) return InvalidArgument(node.Describe() + ": C must be float");
    DOPT_RETURN_IF_ERROR(CheckCBroadcast(node, c.shape(), M, N));
    const float* cp = c.data<float>();
    const int64_t cr = c.rank() == 2 ? c.dim(0) : 1, cc = c.rank() >= 1 ? c.dim(c.rank() - 1) : 1;
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) yp[i * N + j] = beta * cp[(cr == 1 ? 0 : i) * cc + (cc == 1 ? 0 : j)];
    use_c = true;
  }
  if (!ta && SgemmWithConstantB(ctx, 1, tb != 0, M, N, K, alpha, a.data<float>(), a.dim(1), use_c ? 1.f : 0.f, yp, N)) {
    return Status::Ok();
  }
  kernels::Sgemm(ctx.pool(), ta != 0, tb != 0, M, N, K, alpha, a.data<float>(), a.dim(1), b.data<float>(), b.dim(1),
                 use_c ? 1.f : 0.f, yp, N);
  return Status::Ok();
}

// Quantization: A (input 0) int8 per tensor; B (input 1, a constant A is not quantized) int8
// per output column: B is [N, K] with transB (axis 0), else [K, N] (axis 1); C (input 2) int32
// when alpha = beta = 1 and it holds one value per column (a broadcast C stays float).
StatusOr<int> QuantWeightAxis(const Node& n, int, int) {
  DOPT_ASSIGN_OR_RETURN(int64_t trans_b, n.GetInt("transB", 0));
  return trans_b ? 0 : 1;
}
StatusOr<bool> QuantBiasInt32(const Node& n, const Shape& w, int axis, const Shape& b) {
  DOPT_ASSIGN_OR_RETURN(float alpha, n.GetFloat("alpha", 1.f));
  DOPT_ASSIGN_OR_RETURN(float beta, n.GetFloat("beta", 1.f));
  return alpha == 1.f && beta == 1.f && b[0] == w[axis];
}

}  // namespace

const OpDef& OpDef_Gemm() {
  static const OpDef def{
      .name = "Gemm",
      .min_inputs = 2,
      .max_inputs = 3,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("7: C broadcasts unidirectionally (dopt's oldest opset); 9, 13: types; "
                                 "11: C optional"),
      .quant = {
          .role = QuantTraits::Role::kWeighted,
          .activation_input = 0,
          .weight_input = 1,
          .weight_min_rank = 2,
          .weight_max_rank = 2,
          .weight_axis = QuantWeightAxis,
          .bias_input = 2,
          .bias_int32 = QuantBiasInt32,
      },
  };
  return def;
}

}  // namespace dopt
