// HardSigmoid: y = max(0, min(1, alpha * x + beta)); alpha defaults to 0.2, beta to 0.5.
#include <algorithm>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(ctx.node().GetFloat("alpha", 0.2f).status());
  DOPT_RETURN_IF_ERROR(ctx.node().GetFloat("beta", 0.5f).status());
  return InferFloatUnary(ctx);
}

Status Run(KernelContext& ctx) {
  DOPT_ASSIGN_OR_RETURN(float alpha, ctx.node().GetFloat("alpha", 0.2f));
  DOPT_ASSIGN_OR_RETURN(float beta, ctx.node().GetFloat("beta", 0.5f));
  return RunFloatUnary(ctx, [alpha, beta](float x) {
    float v = alpha * x + beta;
    // Written so that NaN passes through.
    v = v < 0.f ? 0.f : v;
    return v > 1.f ? 1.f : v;
  });
}

bool Epilogue(const EpilogueQuery& q, kernels::EpilogueStep* s) {
  auto alpha = q.node.GetFloat("alpha", 0.2f);
  auto beta = q.node.GetFloat("beta", 0.5f);
  return alpha.ok() && beta.ok() && UnaryEpilogue(q, s, kernels::EpilogueStep::kHardSigmoid, *alpha, *beta);
}

}  // namespace

const OpDef& OpDef_HardSigmoid() {
  static const OpDef def{
      .name = "HardSigmoid",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .epilogue = Epilogue,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("unchanged from 6 to 21 (22: types)").Since(6),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
