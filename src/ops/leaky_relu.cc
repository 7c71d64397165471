// LeakyRelu: y = x for x >= 0, alpha * x otherwise (alpha defaults to 0.01).
#include "kernels/clones.h"
#include "ops/op_util.h"

namespace dopt {

// In AVX-512 / AVX2 clones: the select vectorises (at the baseline ISA it was a branch per
// element, mispredicted on mixed signs: 20x slower).
DOPT_KERNEL_CLONES_AVX512 void LeakyReluArray(const float* x, float* y, int64_t n, float alpha) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0.f ? alpha * x[i] : x[i];
}

namespace {

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(ctx.node().GetFloat("alpha", 0.01f).status());
  return InferFloatUnary(ctx);
}

Status Run(KernelContext& ctx) {
  DOPT_ASSIGN_OR_RETURN(float alpha, ctx.node().GetFloat("alpha", 0.01f));
  return RunFloatUnaryArray(ctx, [alpha](const float* x, float* y, int64_t n) { LeakyReluArray(x, y, n, alpha); });
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
