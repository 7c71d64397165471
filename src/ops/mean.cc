// Mean: elementwise mean of 1..N float inputs with numpy broadcasting: their sum (left to
// right, as Sum) divided by N.
#include <limits>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  return InferBroadcastVariadic(ctx, {DType::kFloat32, DType::kFloat16, DType::kBFloat16});
}

Status Run(KernelContext& ctx) {
  if (ctx.input(0).dtype() != DType::kFloat32) {
    return InvalidArgument(ctx.node().Describe() + ": inputs must be float, got " + DTypeName(ctx.input(0).dtype()));
  }
  DOPT_RETURN_IF_ERROR(RunBroadcastVariadic(ctx, [](auto a, auto b) { return a + b; }));
  const int n = ctx.num_inputs();
  if (n == 1) return Status::Ok();  // the output shares input 0's buffer
  Tensor& y = ctx.outputs()[0];    // a fresh buffer: the running sum
  float* yp = y.data<float>();
  const float fn = (float)n;
  ParallelForOrInline(ctx.pool(), y.numel(), 1 << 14, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) yp[i] /= fn;
  });
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_Mean() {
  static const OpDef def{
      .name = "Mean",
      .min_inputs = 1,
      .max_inputs = std::numeric_limits<int>::max(),
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = NoUpgradeNeeded("8: multidirectional broadcasting, a superset of 6's equal shapes; 13: bfloat16").Since(6),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
