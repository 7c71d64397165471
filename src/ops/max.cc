// Max: elementwise largest of 1..N inputs with numpy broadcasting; float NaN propagates.
#include <cmath>
#include <limits>
#include <type_traits>

#include "ops/op_util.h"

namespace dopt {
namespace {

#define DOPT_MAX_TYPES {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kInt8, DType::kUInt8, \
                        DType::kInt16, DType::kInt32, DType::kInt64}

Status Infer(InferContext& ctx) { return InferBroadcastVariadic(ctx, DOPT_MAX_TYPES); }

Status Run(KernelContext& ctx) {
  return RunBroadcastVariadic(ctx, [](auto a, auto b) {
    if constexpr (std::is_floating_point_v<decltype(a)>) {
      if (std::isnan(a)) return a;
      if (std::isnan(b)) return b;
    }
    return (b > a) ? b : a;
  });
}

}  // namespace

const OpDef& OpDef_Max() {
  static const OpDef def{
      .name = "Max",
      .min_inputs = 1,
      .max_inputs = std::numeric_limits<int>::max(),
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("8: multidirectional broadcasting, a superset of 6's equal shapes; 12, 13: types").Since(6),
      .quant = NoQuantRole(),  // several inputs with their own scales
  };
  return def;
}

}  // namespace dopt
