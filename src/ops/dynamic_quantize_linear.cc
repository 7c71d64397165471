// DynamicQuantizeLinear: uint8 quantization of x with parameters from its own range:
// y_scale = (max(0, max x) - min(0, min x)) / 255 (1/255 when both are 0), y_zero_point =
// round(saturate(-min(0, min x) / y_scale)), y = saturate(round(x / y_scale) + y_zero_point),
// all in float and rounding half to even, as the ONNX reference and ONNX Runtime do.
#include <algorithm>
#include <cmath>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  const ValueInfo& x = ctx.input(0);
  if (x.rank_known) ctx.SetOutput(0, DType::kUInt8, x.shape);
  else ctx.SetOutputUnknownRank(0, DType::kUInt8);
  ctx.SetOutput(1, DType::kFloat32, {});
  ctx.SetOutput(2, DType::kUInt8, {});
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::kFloat32) {
    return InvalidArgument(ctx.node().Describe() + ": x must be float, got " + DTypeName(x.dtype()));
  }
  const float* xp = x.data<float>();
  const int64_t n = x.numel();
  float lo = 0.f, hi = 0.f;  // the range always includes 0; NaNs are skipped
  for (int64_t i = 0; i < n; ++i) {
    lo = std::min(lo, xp[i]);
    hi = std::max(hi, xp[i]);
  }
  const float scale = (hi == lo ? 1.f : hi - lo) / 255.f;
  const float zp = std::nearbyint(std::min(255.f, std::max(0.f, 0.f - lo / scale)));
  Tensor& y = ctx.OutputUninitialized(0, DType::kUInt8, x.shape());
  uint8_t* yp = y.data<uint8_t>();
  ParallelForOrInline(ctx.pool(), n, 1 << 14, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      float v = std::nearbyint(xp[i] / scale) + zp;
      if (v != v) v = zp;
      yp[i] = (uint8_t)std::min(255.f, std::max(0.f, v));
    }
  });
  ctx.Output(1, DType::kFloat32, {}).data<float>()[0] = scale;
  ctx.Output(2, DType::kUInt8, {}).data<uint8_t>()[0] = (uint8_t)zp;
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_DynamicQuantizeLinear() {
  static const OpDef def{
      .name = "DynamicQuantizeLinear",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 3,
      .max_outputs = 3,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 11; unchanged through 21"),
      .quant = NoQuantRole(),  // it is quantization itself
  };
  return def;
}

}  // namespace dopt
