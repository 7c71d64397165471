// MatMul: numpy matmul semantics (1-D operands promoted and squeezed, batch dims broadcast).
// float32 through SGEMM (a constant B [K, N] shared by the batch: prepacked once per executor,
// ops/packed_weight.h); int32/int64 with a plain loop.
#include "kernels/epilogue.h"
#include "kernels/gemm.h"
#include "ops/op_util.h"
#include "ops/packed_weight.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  const std::initializer_list<DType> types = {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kInt32,
                                              DType::kInt64};
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, types));
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, types));
  const ValueInfo& a = ctx.input(0);
  const ValueInfo& b = ctx.input(1);
  if (a.dtype != DType::kUndefined && b.dtype != DType::kUndefined && a.dtype != b.dtype) {
    return InvalidArgument(ctx.node().Describe() + ": inputs have different types " + DTypeName(a.dtype) + " and " +
                           DTypeName(b.dtype));
  }
  const DType dt = a.dtype != DType::kUndefined ? a.dtype : b.dtype;
  if (!a.rank_known || !b.rank_known) {
    ctx.SetOutputUnknownRank(0, dt);
    return Status::Ok();
  }
  DOPT_ASSIGN_OR_RETURN(MatMulShapes s, PlanMatMulShapes(ctx.node(), a.shape, b.shape));
  ctx.SetOutput(0, dt, s.out);
  return Status::Ok();
}

template <typename T>
void NaiveMatMul(int64_t M, int64_t N, int64_t K, const T* a, const T* b, T* c) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      T acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += a[i * K + k] * b[k * N + j];
      c[i * N + j] = acc;
    }
}

Status Run(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  const Node& node = ctx.node();
  if (a.dtype() != b.dtype()) {
    return InvalidArgument(node.Describe() + ": inputs have different types " + DTypeName(a.dtype()) + " and " +
                           DTypeName(b.dtype()));
  }
  DOPT_ASSIGN_OR_RETURN(MatMulShapes s, PlanMatMulShapes(node, a.shape(), b.shape()));
  Tensor& y = ctx.Output(0, a.dtype(), s.out);
  const int64_t M = s.M, N = s.N, K = s.K;
  if (y.numel() == 0) return Status::Ok();
  // Batch offsets through broadcasting (strides in units of whole matrices).
  Shape ab(a.shape().begin(), a.shape().end() - std::min<int>(2, a.rank()));
  Shape bb(b.shape().begin(), b.shape().end() - std::min<int>(2, b.rank()));
  DOPT_ASSIGN_OR_RETURN(BroadcastPlan plan, PlanBroadcast(node, ab, bb));
  const int64_t nb = NumElements(s.batch);
  const int rank = (int)s.batch.size();
  auto offsets = [&](int64_t bi, int64_t* ao, int64_t* bo) {
    *ao = *bo = 0;
    for (int d = rank - 1; d >= 0; --d) {
      int64_t idx = bi % s.batch[d];
      bi /= s.batch[d];
      *ao += idx * plan.a_strides[d];
      *bo += idx * plan.b_strides[d];
    }
  };
  const int64_t asz = M * K, bsz = K * N, ysz = M * N;
  // Element-wise steps fused after this MatMul (passes/fuse_conv_epilogue.h), on its columns.
  DOPT_ASSIGN_OR_RETURN(std::vector<kernels::EpilogueStep> epilogue, GetEpilogueAttrs(node));
  for (const kernels::EpilogueStep& st : epilogue) {
    if (!st.channel_c.empty() && (int64_t)st.channel_c.size() != N) {
      return InvalidArgument(node.Describe() + ": dopt.epilogue_channels has " + std::to_string(st.channel_c.size()) +
                             " values per step for " + std::to_string(N) + " columns");
    }
  }
  if (!epilogue.empty() && a.dtype() != DType::kFloat32) {
    return InvalidArgument(node.Describe() + ": an epilogue on a " + DTypeName(a.dtype()) + " MatMul");
  }
  switch (a.dtype()) {
    case DType::kFloat32: {
      const float* ap = a.data<float>();
      const float* bp = b.data<float>();
      float* yp = y.data<float>();
      const bool b_shared = NumElements(bb) == 1;
      if (b_shared && NumElements(ab) == nb) {
        // A's batch folds into M: one GEMM; a constant B prepacked once per executor, which
        // applies the epilogue block by block.
        if (SgemmWithConstantB(ctx, 1, false, nb * M, N, K, 1.f, ap, K, 0.f, yp, N, &epilogue)) return Status::Ok();
        kernels::Sgemm(ctx.pool(), false, false, nb * M, N, K, 1.f, ap, K, bp, N, 0.f, yp, N, kernels::GemmEngine::kOneDnn);
        if (!epilogue.empty()) kernels::ApplyEpilogueChannelsLast(epilogue, yp, nb * M, N);
        return Status::Ok();
      }
      if (!epilogue.empty()) return Internal(node.Describe() + ": an epilogue needs a B shared by the batch");
      // Activations x activations (attention). Small matrices (a window's or a head's scores)
      // are one SGEMM call each wherever they run, so the batch is spread over the threads;
      // larger ones split inside Sgemm.
      const bool spread = nb > 1 && kernels::SgemmIsOneCall(M, N, K);
      ParallelForOrInline(spread ? ctx.pool() : nullptr, nb, 1, [&](int64_t b0, int64_t b1) {
        for (int64_t bi = b0; bi < b1; ++bi) {
          int64_t ao, bo;
          offsets(bi, &ao, &bo);
          kernels::Sgemm(spread ? nullptr : ctx.pool(), false, false, M, N, K, 1.f, ap + ao * asz, K, bp + bo * bsz, N,
                         0.f, yp + bi * ysz, N, kernels::GemmEngine::kOneDnn);
        }
      });
      return Status::Ok();
    }
#define DOPT_INT_CASE(DT, T)                                                                              \
  case DT: {                                                                                              \
    for (int64_t bi = 0; bi < nb; ++bi) {                                                                 \
      int64_t ao, bo;                                                                                     \
      offsets(bi, &ao, &bo);                                                                              \
      NaiveMatMul<T>(M, N, K, a.data<T>() + ao * asz, b.data<T>() + bo * bsz, y.data<T>() + bi * ysz);    \
    }                                                                                                     \
    return Status::Ok();                                                                                  \
  }
      DOPT_INT_CASE(DType::kInt32, int32_t)
      DOPT_INT_CASE(DType::kInt64, int64_t)
#undef DOPT_INT_CASE
    default:
      return InvalidArgument(node.Describe() + ": unsupported input type " + DTypeName(a.dtype()));
  }
}

// Quantization: the constant operand is the weight (int8 per output channel), the other the
// activation (int8 per tensor): B [.., K, N] per column (its last dim), a constant A [.., M, K]
// per row (M, its second-to-last dim); a 1-D weight per tensor. No bias. Two activation
// operands (attention) are both quantized per tensor.
// An epilogue (a linear layer's bias Add, ...) needs a constant 2-D B, the prepacked path that
// applies it block by block; its channels are B's columns, Y's last axis.
int EpilogueAnchor(const Graph& g, const Node& n) {
  if (n.inputs.size() != 2 || n.inputs[1] < 0) return -1;
  const Value& b = g.value(n.inputs[1]);
  const Value& y = g.value(n.outputs[0]);
  if (!b.IsConstant() || b.shape.size() != 2 || !y.rank_known || y.shape.size() < 2) return -1;
  return (int)y.shape.size() - 1;
}

StatusOr<int> QuantWeightAxis(const Node&, int weight_input, int rank) {
  return rank < 2 ? -1 : weight_input == 1 ? rank - 1 : rank - 2;
}

}  // namespace

const OpDef& OpDef_MatMul() {
  static const OpDef def{
      .name = "MatMul",
      .min_inputs = 2,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .epilogue_anchor = EpilogueAnchor,
      .upgrade = NoUpgradeNeeded("9, 13: types only").Since(1),
      .quant = {
          .role = QuantTraits::Role::kWeighted,
          .activation_input = 0,
          .weight_input = 1,
          .operands_commute = true,
          .activation_pair = true,
          .weight_axis = QuantWeightAxis,
      },
  };
  return def;
}

}  // namespace dopt
