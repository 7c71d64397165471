// LeakyRelu: y = x for x >= 0, alpha * x otherwise (alpha defaults to 0.01).
#include "ops/op_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(ctx.node().GetFloat("alpha", 0.01f).status());
  return InferFloatUnary(ctx);
}

Status Run(KernelContext& ctx) {
  DOPT_ASSIGN_OR_RETURN(float alpha, ctx.node().GetFloat("alpha", 0.01f));
  return RunFloatUnary(ctx, [alpha](float x) { return x < 0.f ? alpha * x : x; });
}

bool Epilogue(const EpilogueQuery& q, kernels::EpilogueStep* s) {
  auto alpha = q.node.GetFloat("alpha", 0.01f);
  return alpha.ok() && UnaryEpilogue(q, s, kernels::EpilogueStep::kLeakyRelu, *alpha);
}

}  // namespace

const OpDef& OpDef_LeakyRelu() {
  static const OpDef def{
      .name = "LeakyRelu",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .epilogue = Epilogue,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("16: bfloat16 only").Since(6),
      .quant = NoQuantRole(),  // the negative slope rescales
  };
  return def;
}

}  // namespace dopt
