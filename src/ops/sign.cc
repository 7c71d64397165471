// Sign: y = -1, 0 or 1 by the sign of x, for floats and integers (NaN stays NaN, as in numpy).
#include <type_traits>

#include "ops/unary_common.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  return RunNumericUnary(ctx, [](auto x) {
    using T = decltype(x);
    if constexpr (std::is_floating_point_v<T>) return x > 0 ? T(1) : x < 0 ? T(-1) : x;  // 0, -0, NaN kept
    else if constexpr (std::is_unsigned_v<T>) return static_cast<T>(x > 0 ? 1 : 0);
    else return static_cast<T>(x > 0 ? 1 : x < 0 ? -1 : 0);
  });
}

}  // namespace

const OpDef& OpDef_Sign() {
  static const OpDef def{
      .name = "Sign",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = InferNumericUnary,
      .run = Run,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("introduced at 9; 13: bfloat16"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
