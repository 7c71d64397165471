// Pow: z = x ^ y with numpy broadcasting; z has x's dtype. x is float (float16/bfloat16 compute
// as float32), int32 or int64; y may be any float or integer type, independent of x.
// Integer x with integer y is exact (wrapping on overflow); a negative integer exponent
// gives 1 / x^|y| truncated toward zero, with 0 for x == 0 (no division trap).
// Integer x with float y is computed in double and truncated toward zero (NaN gives 0).
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "ops/op_util.h"

namespace dopt {
namespace {

#define DOPT_POW_BASE_TYPES {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kInt32, DType::kInt64}
#define DOPT_POW_EXP_TYPES {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kInt8, DType::kUInt8, \
                            DType::kInt16, DType::kInt32, DType::kInt64}

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, DOPT_POW_BASE_TYPES));
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, DOPT_POW_EXP_TYPES));
  const ValueInfo& a = ctx.input(0);
  const ValueInfo& b = ctx.input(1);
  if (!a.rank_known || !b.rank_known) {
    ctx.SetOutputUnknownRank(0, a.dtype);
    return Status::Ok();
  }
  DOPT_ASSIGN_OR_RETURN(Shape s, BroadcastShapes(ctx.node(), a.shape, b.shape));
  ctx.SetOutput(0, a.dtype, s);
  return Status::Ok();
}

template <typename T>
T IntPow(T base, int64_t e) {
  using U = std::make_unsigned_t<T>;
  if (e < 0) {
    if (base == 1) return 1;
    if (base == -1) return (e & 1) ? T(-1) : T(1);
    return 0;  // |base| > 1 truncates to 0; base == 0 would divide by zero
  }
  U result = 1, b = static_cast<U>(base);
  uint64_t n = static_cast<uint64_t>(e);
  while (n) {
    if (n & 1) result = static_cast<U>(result * b);
    b = static_cast<U>(b * b);
    n >>= 1;
  }
  return static_cast<T>(result);
}

template <typename T>
T TruncToInt(double v) {
  if (v != v) return 0;
  if (v >= (double)std::numeric_limits<T>::max()) return std::numeric_limits<T>::max();
  if (v <= (double)std::numeric_limits<T>::lowest()) return std::numeric_limits<T>::lowest();
  return static_cast<T>(v);
}

template <typename TA, typename TB>
TA PowOne(TA a, TB b) {
  if constexpr (std::is_floating_point_v<TA>) {
    if constexpr (std::is_floating_point_v<TB>) return std::pow(a, b);
    else return static_cast<TA>(std::pow((double)a, (double)b));
  } else {
    if constexpr (std::is_floating_point_v<TB>) return TruncToInt<TA>(std::pow((double)a, (double)b));
    else return IntPow<TA>(a, (int64_t)b);
  }
}

// Broadcasting loop over inputs of different element types.
template <typename TA, typename TB>
void RunPow(const BroadcastPlan& plan, const TA* a, const TB* b, TA* out, ThreadPool* pool) {
  const int rank = (int)plan.out_shape.size();
  const int64_t n = NumElements(plan.out_shape);
  if (n == 0) return;  // the positioning below divides by every dim
  if (plan.same_shape) {
    ParallelForOrInline(pool, n, 1 << 14, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) out[i] = PowOne(a[i], b[i]);
    });
    return;
  }
  ParallelForOrInline(pool, n, 1 << 14, [&](int64_t s, int64_t e) {
    std::vector<int64_t> idx(rank, 0);
    int64_t r = s, ao = 0, bo = 0;
    for (int d = rank - 1; d >= 0; --d) {
      idx[d] = r % plan.out_shape[d];
      r /= plan.out_shape[d];
      ao += idx[d] * plan.a_strides[d];
      bo += idx[d] * plan.b_strides[d];
    }
    for (int64_t i = s; i < e; ++i) {
      out[i] = PowOne(a[ao], b[bo]);
      for (int d = rank - 1; d >= 0; --d) {
        ao += plan.a_strides[d];
        bo += plan.b_strides[d];
        if (++idx[d] < plan.out_shape[d]) break;
        ao -= idx[d] * plan.a_strides[d];
        bo -= idx[d] * plan.b_strides[d];
        idx[d] = 0;
      }
    }
  });
}

template <typename TA>
Status RunWithBase(KernelContext& ctx, const BroadcastPlan& plan) {
  const Tensor& x = ctx.input(0);
  const Tensor& y = ctx.input(1);
  Tensor& z = ctx.Output(0, x.dtype(), plan.out_shape);
  if constexpr (std::is_same_v<TA, float>) {
    // x ^ 2 (RMSNorm, variance) and x ^ 3 (the tanh GELU of GPT-2, ALBERT, ...): x * x and
    // (x * x) * x, vectorised instead of a powf call per element (about 9 ns each). These are
    // ONNX Runtime's own formulas, bit for bit. The square is correctly rounded (glibc's powf
    // differs from it in the last bit where the exact square lies halfway between two floats,
    // 4097^2); the cube, rounded twice, is within an ulp (about a quarter of values differ from
    // powf's in the last bit).
    const double e = y.numel() != 1 ? 0.0
                     : y.dtype() == DType::kFloat32 ? (double)y.data<float>()[0]
                     : IsInteger(y.dtype())        ? (double)y.ToInt64Vector()[0]
                                                   : 0.0;
    if ((e == 2.0 || e == 3.0) && x.shape() == plan.out_shape) {
      const float* xp = x.data<float>();
      float* zp = z.data<float>();
      const bool cube = e == 3.0;
      ParallelForOrInline(ctx.pool(), z.numel(), 1 << 14, [&](int64_t b, int64_t end) {
        if (cube) {
          for (int64_t i = b; i < end; ++i) zp[i] = xp[i] * xp[i] * xp[i];
        } else {
          for (int64_t i = b; i < end; ++i) zp[i] = xp[i] * xp[i];
        }
      });
      return Status::Ok();
    }
  }
  if (y.dtype() == DType::kFloat32) {
    RunPow<TA, float>(plan, x.data<TA>(), y.data<float>(), z.data<TA>(), ctx.pool());
  } else if (IsInteger(y.dtype())) {
    const Tensor e = y.dtype() == DType::kInt64 ? y : y.CastTo(DType::kInt64);
    RunPow<TA, int64_t>(plan, x.data<TA>(), e.data<int64_t>(), z.data<TA>(), ctx.pool());
  } else {
    return InvalidArgument(std::string("unsupported exponent type ") + DTypeName(y.dtype()));
  }
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& y = ctx.input(1);
  DOPT_ASSIGN_OR_RETURN(BroadcastPlan plan, PlanBroadcast(ctx.node(), x.shape(), y.shape()));
  switch (x.dtype()) {
    case DType::kFloat32: return RunWithBase<float>(ctx, plan);
    case DType::kInt32: return RunWithBase<int32_t>(ctx, plan);
    case DType::kInt64: return RunWithBase<int64_t>(ctx, plan);
    default: return InvalidArgument(std::string("unsupported base type ") + DTypeName(x.dtype()));
  }
}

}  // namespace

const OpDef& OpDef_Pow() {
  static const OpDef def{
      .name = "Pow",
      .min_inputs = 2,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("12, 15: the exponent gets its own type; 13: bfloat16"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
