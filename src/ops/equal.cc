// Equal: y = (a == b) with numpy broadcasting; a bool output.
#include "ops/logic_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) { return InferBroadcastBinaryTo(ctx, {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kInt8, DType::kUInt8, DType::kInt16, DType::kInt32, DType::kInt64, DType::kBool}, DType::kBool); }

Status Run(KernelContext& ctx) {
  return RunBinaryToBool(ctx, [](auto a, auto b) { return a == b; });
}

}  // namespace

const OpDef& OpDef_Equal() {
  static const OpDef def{
      .name = "Equal",
      .min_inputs = 2,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("7: numpy broadcasting (dopt's oldest opset); 11, 13, 19: new types only"),
      .quant = NoQuantRole(),  // a bool output
  };
  return def;
}

}  // namespace dopt
