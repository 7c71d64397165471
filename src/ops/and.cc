// And: y = a and b over bool inputs with numpy broadcasting; a bool output.
#include "ops/logic_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) { return InferBroadcastBinaryTo(ctx, {DType::kBool}, DType::kBool); }

Status Run(KernelContext& ctx) {
  return RunBinaryToBool(ctx, [](auto a, auto b) { return a && b; });
}

}  // namespace

const OpDef& OpDef_And() {
  static const OpDef def{
      .name = "And",
      .min_inputs = 2,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("7: numpy broadcasting (dopt's oldest opset); unchanged since"),
      .quant = NoQuantRole(),  // a bool output
  };
  return def;
}

}  // namespace dopt
