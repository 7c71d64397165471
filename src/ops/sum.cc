// Sum: elementwise sum of 1..N inputs with numpy broadcasting (left to right, as Max/Min).
#include <limits>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  return InferBroadcastVariadic(ctx, {DType::kFloat32, DType::kFloat16, DType::kBFloat16});
}

Status Run(KernelContext& ctx) {
  return RunBroadcastVariadic(ctx, [](auto a, auto b) { return a + b; });
}

}  // namespace

const OpDef& OpDef_Sum() {
  static const OpDef def{
      .name = "Sum",
      .min_inputs = 1,
      .max_inputs = std::numeric_limits<int>::max(),
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("8: multidirectional broadcasting, a superset of 6's equal shapes; 13: bfloat16").Since(6),
      .quant = NoQuantRole(),  // a sum needs its own scale
  };
  return def;
}

}  // namespace dopt
