// Abs: y = |x| for floats and integers (signed integer MIN wraps to MIN, as in numpy).
#include <cmath>
#include <type_traits>

#include "ops/unary_common.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  return RunNumericUnary(ctx, [](auto x) {
    using T = decltype(x);
    if constexpr (std::is_floating_point_v<T>) return std::fabs(x);
    else if constexpr (std::is_unsigned_v<T>) return x;
    else {
      using U = std::make_unsigned_t<T>;
      return static_cast<T>(x < 0 ? static_cast<U>(-static_cast<U>(x)) : static_cast<U>(x));
    }
  });
}

}  // namespace

const OpDef& OpDef_Abs() {
  static const OpDef def{
      .name = "Abs",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = InferNumericUnary,
      .run = Run,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("6: consumed_inputs removed, integer types; 13: bfloat16").Since(6),
      .quant = NoQuantRole(),  // folds negative values onto positive ones: not on the input's grid
  };
  return def;
}

}  // namespace dopt
