// Relu: y = max(x, 0).
#include "ops/op_util.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  return RunFloatUnary(ctx, [](float x) { return x > 0.f ? x : 0.f; });
}

}  // namespace

const OpDef& OpDef_Relu() {
  static const OpDef def{"Relu", 1, 1, 1, 1, InferFloatUnary, Run};
  return def;
}

}  // namespace dopt
