// Shrink: y = x + bias for x < -lambd, x - bias for x > lambd, 0 otherwise (lambd defaults to
// 0.5, bias to 0). Float types only: ONNX also allows integer types, which dopt does not run.
#include "ops/op_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(ctx.node().GetFloat("lambd", 0.5f).status());
  DOPT_RETURN_IF_ERROR(ctx.node().GetFloat("bias", 0.f).status());
  return InferFloatUnary(ctx);
}

Status Run(KernelContext& ctx) {
  DOPT_ASSIGN_OR_RETURN(float lambd, ctx.node().GetFloat("lambd", 0.5f));
  DOPT_ASSIGN_OR_RETURN(float bias, ctx.node().GetFloat("bias", 0.f));
  return RunFloatUnary(ctx, [lambd, bias](float x) {
    if (x < -lambd) return x + bias;
    if (x > lambd) return x - bias;
    return x != x ? x : 0.f;  // NaN passes through
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
      .upgrade = NoUpgradeNeeded("introduced at 9, unchanged to 21"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
