// Erf: y = erf(x), the Gauss error function.
#include <cmath>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  return RunFloatUnary(ctx, [](float x) { return std::erf(x); });
}

}  // namespace

const OpDef& OpDef_Erf() {
  static const OpDef def{"Erf", 1, 1, 1, 1, InferFloatUnary, Run};
  return def;
}

}  // namespace dopt
