// Sub: C = A - B with numpy broadcasting (integer differences wrap like the storage type).
#include "ops/op_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) { return InferBroadcastBinary(ctx, DOPT_ARITH_TYPES); }

Status Run(KernelContext& ctx) {
  return RunBinaryArith(ctx, [](auto a, auto b) { return a - b; });
}

bool Epilogue(const EpilogueQuery& q, kernels::EpilogueStep* s) {
  return BinaryEpilogue(q, s, kernels::EpilogueStep::kSub, kernels::EpilogueStep::kSubFrom, kernels::EpilogueStep::kNumOps);
}

}  // namespace

const OpDef& OpDef_Sub() {
  static const OpDef def{
      .name = "Sub",
      .min_inputs = 2,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .epilogue = Epilogue,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("7: numpy broadcasting (dopt's oldest opset); 13, 14: new types only"),
      .quant = NoQuantRole(),  // a difference needs its own scale
  };
  return def;
}

}  // namespace dopt
