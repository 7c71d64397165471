// Sqrt: y = sqrt(x) (NaN for x < 0).
#include <cmath>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Run(KernelContext& ctx) {
  return RunFloatUnary(ctx, [](float x) { return std::sqrt(x); });
}

}  // namespace

const OpDef& OpDef_Sqrt() {
  static const OpDef def{"Sqrt", 1, 1, 1, 1, InferFloatUnary, Run};
  return def;
}

}  // namespace dopt
