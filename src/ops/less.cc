// Less: y = (a < b) with numpy broadcasting; a bool output.
#include "ops/logic_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) { return InferBroadcastBinaryTo(ctx, DOPT_COMPARE_TYPES, DType::kBool); }

Status Run(KernelContext& ctx) {
  return RunBinaryToBool(ctx, [](auto a, auto b) { return a < b; });
}

}  // namespace

const OpDef& OpDef_Less() {
  static const OpDef def{
      .name = "Less",
      .min_inputs = 2,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("7: numpy broadcasting (dopt's oldest opset); 9, 13: new types only"),
      .quant = NoQuantRole(),  // a bool output
  };
  return def;
}

}  // namespace dopt
