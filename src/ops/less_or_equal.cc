// LessOrEqual: y = (a <= b) with numpy broadcasting; a bool output.
#include "ops/logic_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) { return InferBroadcastBinaryTo(ctx, DOPT_COMPARE_TYPES, DType::kBool); }

Status Run(KernelContext& ctx) {
  return RunBinaryToBool(ctx, [](auto a, auto b) { return a <= b; });
}

}  // namespace

const OpDef& OpDef_LessOrEqual() {
  static const OpDef def{
      .name = "LessOrEqual",
      .min_inputs = 2,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 12; 16: bfloat16"),
      .quant = NoQuantRole(),  // a bool output
  };
  return def;
}

}  // namespace dopt
