// GlobalMaxPool: max over all spatial dims; Y is [N, C, 1, ...]. A NaN anywhere in a plane
// makes its max NaN (as numpy's max).
#include <cmath>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(
      CheckInputDType(ctx, 0, {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kInt8, DType::kUInt8}));
  return InferGlobalPool(ctx);
}

template <typename T>
void PlaneMax(const T* xp, T* yp, int64_t planes, int64_t sz, ThreadPool* pool) {
  auto body = [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const T* s = xp + p * sz;
      T m = s[0];
      for (int64_t i = 1; i < sz; ++i) {
        if constexpr (std::is_floating_point_v<T>) {
          if (std::isnan(m)) break;
          if (std::isnan(s[i]) || s[i] > m) m = s[i];
        } else {
          if (s[i] > m) m = s[i];
        }
      }
      yp[p] = m;
    }
  };
  ParallelForOrInline(pool, planes, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, sz)), body);
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.rank() < 2) {
    return InvalidArgument(ctx.node().Describe() + ": input X must have rank >= 2, got " + ShapeToString(x.shape()));
  }
  Shape out(x.rank(), 1);
  out[0] = x.dim(0);
  out[1] = x.dim(1);
  const int64_t planes = x.dim(0) * x.dim(1);
  const int64_t sz = planes ? x.numel() / planes : 0;
  if (planes > 0 && sz == 0) {
    return InvalidArgument(ctx.node().Describe() + ": empty spatial extent " + ShapeToString(x.shape()));
  }
  Tensor& y = ctx.OutputUninitialized(0, x.dtype(), out);
  switch (x.dtype()) {
    case DType::kFloat32: PlaneMax(x.data<float>(), y.data<float>(), planes, sz, ctx.pool()); break;
    case DType::kInt8: PlaneMax(x.data<int8_t>(), y.data<int8_t>(), planes, sz, ctx.pool()); break;
    case DType::kUInt8: PlaneMax(x.data<uint8_t>(), y.data<uint8_t>(), planes, sz, ctx.pool()); break;
    default:
      return InvalidArgument(ctx.node().Describe() + ": unsupported input type " + DTypeName(x.dtype()));
  }
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_GlobalMaxPool() {
  static const OpDef def{
      .name = "GlobalMaxPool",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("unchanged from 1 to 21 (22: types)").Since(1),
      .quant = SharesInputScale(),  // the max of each plane (dequantization is increasing)
  };
  return def;
}

}  // namespace dopt
