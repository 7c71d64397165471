// Div: C = A / B with numpy broadcasting.
// Floats follow IEEE (x/0 = +-inf, 0/0 = NaN). Integers truncate toward zero like C; an
// integer division by zero yields 0 instead of trapping, and MIN / -1 wraps to MIN.
#include <type_traits>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) { return InferBroadcastBinary(ctx, DOPT_ARITH_TYPES); }

template <typename T>
T Divide(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    if (b == 0) return T(0);
    if constexpr (std::is_signed_v<T>) {
      // -MIN overflows; negate through the unsigned type, which wraps.
      if (b == T(-1)) return static_cast<T>(-static_cast<std::make_unsigned_t<T>>(a));
    }
    return static_cast<T>(a / b);
  } else {
    return a / b;
  }
}

Status Run(KernelContext& ctx) {
  return RunBinaryArith(ctx, [](auto a, auto b) { return Divide(a, b); });
}

bool Epilogue(const EpilogueQuery& q, kernels::EpilogueStep* s) {
  return BinaryEpilogue(q, s, kernels::EpilogueStep::kDiv, kernels::EpilogueStep::kDivInto, kernels::EpilogueStep::kNumOps);
}

}  // namespace

const OpDef& OpDef_Div() {
  static const OpDef def{
      .name = "Div",
      .min_inputs = 2,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .epilogue = Epilogue,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("7: numpy broadcasting (dopt's oldest opset); 13, 14: new types only"),
      .quant = NoQuantRole(),  // a quotient needs its own scale
  };
  return def;
}

}  // namespace dopt
