// Tanh: y = tanh(x).
#include <cmath>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  return RunFloatUnary(ctx, [](float x) { return std::tanh(x); });
}

}  // namespace

const OpDef& OpDef_Tanh() {
  static const OpDef def{"Tanh", 1, 1, 1, 1, InferFloatUnary, Run};
  return def;
}

}  // namespace dopt
