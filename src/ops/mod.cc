// Mod: elementwise remainder with numpy broadcasting. fmod=0 (integers): the result takes the
// divisor's sign (Python's %); fmod=1: C fmod, the dividend's sign. Integer division by zero
// gives 0 (numpy's result) instead of trapping. Float inputs use fmod=1 per the spec; fmod=0 on
// floats computes numpy's mod.
#include <cmath>
#include <type_traits>

#include "ops/op_util.h"

namespace dopt {
namespace {

#define DOPT_MOD_TYPES {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kInt8, DType::kUInt8, \
                        DType::kInt16, DType::kInt32, DType::kInt64}

Status Infer(InferContext& ctx) {
  DOPT_ASSIGN_OR_RETURN(int64_t fmod, ctx.node().GetInt("fmod", 0));
  if (fmod != 0 && fmod != 1) return InvalidArgument(ctx.node().Describe() + ": fmod must be 0 or 1");
  return InferBroadcastBinary(ctx, DOPT_MOD_TYPES);
}

template <typename T>
T ModOne(T a, T b, bool fmod) {
  if constexpr (std::is_floating_point_v<T>) {
    T r = std::fmod(a, b);
    if (!fmod && r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
  } else {
    if (b == 0) return 0;
    if constexpr (std::is_signed_v<T>) {
      if (b == -1) return 0;  // also avoids INT_MIN % -1
    }
    T r = static_cast<T>(a % b);
    if constexpr (std::is_signed_v<T>) {
      if (!fmod && r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b);
    }
    return r;
  }
}

Status Run(KernelContext& ctx) {
  DOPT_ASSIGN_OR_RETURN(int64_t fmod, ctx.node().GetInt("fmod", 0));
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  if (a.dtype() != b.dtype()) return InvalidArgument(ctx.node().Describe() + ": inputs have different types");
  DOPT_ASSIGN_OR_RETURN(BroadcastPlan plan, PlanBroadcast(ctx.node(), a.shape(), b.shape()));
  Tensor& y = ctx.OutputUninitialized(0, a.dtype(), plan.out_shape);
  return VisitNumericDType(a.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    RunBroadcast<T, T>(plan, a.data<T>(), b.data<T>(), y.data<T>(), ctx.pool(),
                       [&](T x, T z) { return ModOne<T>(x, z, fmod != 0); });
    return Status::Ok();
  });
}

}  // namespace

const OpDef& OpDef_Mod() {
  static const OpDef def{
      .name = "Mod",
      .min_inputs = 2,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 10; 13: bfloat16"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
