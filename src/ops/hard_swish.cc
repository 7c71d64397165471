// HardSwish: y = x * max(0, min(1, x / 6 + 0.5)).
#include "ops/op_util.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  return RunFloatUnary(ctx, [](float x) {
    float g = x / 6.f + 0.5f;
    g = g < 0.f ? 0.f : g;
    g = g > 1.f ? 1.f : g;
    return x * g;
  });
}

}  // namespace

const OpDef& OpDef_HardSwish() {
  static const OpDef def{"HardSwish", 1, 1, 1, 1, InferFloatUnary, Run};
  return def;
}

}  // namespace dopt
