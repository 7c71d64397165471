// Shrink: y = x + bias for x < -lambd, x - bias for x > lambd, 0 otherwise (lambd defaults to
// 0.5, bias to 0), for floats and integers. Integers compute in double and convert back as
// ONNX's reference (numpy's astype) does: toward zero, here clamped to the type's range.
#include <algorithm>
#include <limits>
#include <type_traits>

#include "ops/unary_common.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(ctx.node().GetFloat("lambd", 0.5f).status());
  DOPT_RETURN_IF_ERROR(ctx.node().GetFloat("bias", 0.f).status());
  return InferNumericUnary(ctx);
}

Status Run(KernelContext& ctx) {
  DOPT_ASSIGN_OR_RETURN(float lambd, ctx.node().GetFloat("lambd", 0.5f));
  DOPT_ASSIGN_OR_RETURN(float bias, ctx.node().GetFloat("bias", 0.f));
  return RunNumericUnary(ctx, [lambd, bias](auto x) {
    using T = decltype(x);
    if constexpr (std::is_floating_point_v<T>) {
      if (x < -lambd) return x + bias;
      if (x > lambd) return x - bias;
      return x != x ? x : T(0);  // NaN passes through
    } else {
      const double v = x < -lambd ? (double)x + bias : x > lambd ? (double)x - bias : 0.0;
      const double lo = (double)std::numeric_limits<T>::min(), hi = (double)std::numeric_limits<T>::max();
      return v <= lo ? std::numeric_limits<T>::min() : v >= hi ? std::numeric_limits<T>::max() : static_cast<T>(v);
    }
  });
}

}  // namespace

const OpDef& OpDef_Shrink() {
  static const OpDef def{
      .name = "Shrink",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("introduced at 9, unchanged to 21"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
