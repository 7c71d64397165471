// Gelu: y = 0.5 * x * (1 + erf(x / sqrt(2))) (approximate "none", the default), or with
// approximate "tanh": 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))); the vectorised
// kernels/vmath.h kernels, or std::erf / std::tanh when the reference kernels are forced; also a
// Conv/MatMul epilogue step, and runs on channels-last data as it is (element-wise).
#include <cmath>
#include <string>

#include "common/kernel_options.h"
#include "kernels/vmath.h"
#include "ops/op_util.h"

namespace dopt {
namespace {

StatusOr<bool> UsesTanh(const Node& node) {
  StatusOr<std::string> approximate = node.GetString("approximate", "none");
  if (!approximate.ok()) return approximate.status();
  if (*approximate == "tanh") return true;
  if (*approximate == "none") return false;
  return InvalidArgument(node.Describe() + ": approximate must be \"none\" or \"tanh\", got \"" + *approximate + "\"");
}

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(UsesTanh(ctx.node()).status());
  return InferFloatUnary(ctx);
}

Status Run(KernelContext& ctx) {
  DOPT_ASSIGN_OR_RETURN(bool tanh_approx, UsesTanh(ctx.node()));
  if (!ReferenceKernelsForced()) {
    return RunFloatUnaryArray(ctx, tanh_approx ? kernels::GeluTanhArray : kernels::GeluErfArray);
  }
  return RunFloatUnary(ctx, tanh_approx ? kernels::GeluTanhReference : kernels::GeluErfReference);
}

bool Epilogue(const EpilogueQuery& q, kernels::EpilogueStep* s) {
  StatusOr<bool> tanh_approx = UsesTanh(q.node);
  return tanh_approx.ok() && UnaryEpilogue(q, s, kernels::EpilogueStep::kGelu, *tanh_approx ? 1.f : 0.f);
}

}  // namespace

const OpDef& OpDef_Gelu() {
  static const OpDef def{
      .name = "Gelu",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .epilogue = Epilogue,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("introduced at 20, unchanged to 21"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
