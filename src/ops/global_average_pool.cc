// GlobalAveragePool: mean over all spatial dims; Y is [N, C, 1, ...].
#include "ops/op_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  return InferGlobalPool(ctx);
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::kFloat32) {
    return InvalidArgument(ctx.node().Describe() + ": expected float input, got " + DTypeName(x.dtype()));
  }
  if (x.rank() < 2) {
    return InvalidArgument(ctx.node().Describe() + ": input X must have rank >= 2, got " + ShapeToString(x.shape()));
  }
  Shape out(x.rank(), 1);
  out[0] = x.dim(0);
  out[1] = x.dim(1);
  Tensor& y = ctx.OutputUninitialized(0, DType::kFloat32, out);
  const int64_t planes = x.dim(0) * x.dim(1);
  const int64_t sz = planes ? x.numel() / planes : 0;
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  auto body = [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const float* s = xp + p * sz;
      double acc = 0;
      for (int64_t i = 0; i < sz; ++i) acc += s[i];
      yp[p] = sz ? (float)(acc / (double)sz) : 0.f;
    }
  };
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, sz));
  if (ctx.pool()) ctx.pool()->ParallelFor(planes, grain, body);
  else body(0, planes);
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_GlobalAveragePool() {
  static const OpDef def{
      .name = "GlobalAveragePool",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("unchanged from 1 to 21 (22: types)").Since(1),
      .quant = NoQuantRole(),  // averages round: int8 in, int8 out is not exact
  };
  return def;
}

}  // namespace dopt
