// Exp: y = exp(x).
#include <cmath>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  return RunFloatUnary(ctx, [](float x) { return std::exp(x); });
}

}  // namespace

const OpDef& OpDef_Exp() {
  static const OpDef def{"Exp", 1, 1, 1, 1, InferFloatUnary, Run};
  return def;
}

}  // namespace dopt
