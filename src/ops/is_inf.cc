// IsInf: y = whether x is +inf (when detect_positive, default 1) or -inf (when detect_negative,
// default 1), as bool.
#include <cmath>

#include "ops/unary_common.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(ctx.node().GetInt("detect_negative", 1).status());
  DOPT_RETURN_IF_ERROR(ctx.node().GetInt("detect_positive", 1).status());
  return InferFloatPredicate(ctx);
}

Status Run(KernelContext& ctx) {
  DOPT_ASSIGN_OR_RETURN(int64_t neg, ctx.node().GetInt("detect_negative", 1));
  DOPT_ASSIGN_OR_RETURN(int64_t pos, ctx.node().GetInt("detect_positive", 1));
  const bool detect_neg = neg != 0, detect_pos = pos != 0;
  return RunFloatPredicate(ctx, [detect_neg, detect_pos](float x) {
    return std::isinf(x) && (x > 0 ? detect_pos : detect_neg);
  });
}

}  // namespace

const OpDef& OpDef_IsInf() {
  static const OpDef def{
      .name = "IsInf",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 10; 20: float16, bfloat16 and float8 types"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
