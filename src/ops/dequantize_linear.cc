// DequantizeLinear: y = (x - x_zero_point) * x_scale, per-tensor (scalar scale) or per-axis
// (1-D scale along `axis`, default 1). x is int8, uint8, int16 or int32 (int32 for biases,
// zero point 0); the zero point is optional (default 0) and has x's type. y has x_scale's
// dtype (float16/bfloat16 scales compute as float32). `block_size` is not supported.
#include <algorithm>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kInt8, DType::kUInt8, DType::kInt16, DType::kInt32}));
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  const ValueInfo& x = ctx.input(0);
  const ValueInfo& s = ctx.input(1);
  if (ctx.has_input(2)) {
    DType zt = ctx.input(2).dtype;
    if (zt != DType::kUndefined && x.dtype != DType::kUndefined && zt != x.dtype) {
      return InvalidArgument(node.Describe() + ": zero point has type " + DTypeName(zt) + " but the input is " +
                             DTypeName(x.dtype));
    }
  }
  DOPT_RETURN_IF_ERROR(CheckQuantAxisInputs(ctx));
  const DType out = s.dtype == DType::kUndefined ? DType::kFloat32 : s.dtype;
  if (x.rank_known) ctx.SetOutput(0, out, x.shape);
  else ctx.SetOutputUnknownRank(0, out);
  return Status::Ok();
}

template <typename Q>
void Dequantize(const Q* x, const float* scale, const Q* zp, const QuantAxisLayout& l, float* y, ThreadPool* pool) {
  const int64_t blocks = l.outer * l.channels;
  ParallelForOrInline(pool, blocks, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, l.inner)),
                      [&](int64_t b0, int64_t b1) {
                        for (int64_t blk = b0; blk < b1; ++blk) {
                          const int64_t c = blk % l.channels;
                          const float s = scale[c];
                          const int64_t z = zp ? (int64_t)zp[c] : 0;
                          const Q* xs = x + blk * l.inner;
                          float* ys = y + blk * l.inner;
                          for (int64_t i = 0; i < l.inner; ++i) ys[i] = (float)((int64_t)xs[i] - z) * s;
                        }
                      });
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  DOPT_ASSIGN_OR_RETURN(int64_t axis, node.GetInt("axis", 1));
  const Tensor& x = ctx.input(0);
  const Tensor& scale = ctx.input(1);
  const Tensor* zp = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  if (scale.dtype() != DType::kFloat32) return InvalidArgument(std::string("scale has type ") + DTypeName(scale.dtype()));
  if (zp && zp->dtype() != x.dtype()) {
    return InvalidArgument(std::string("zero point has type ") + DTypeName(zp->dtype()) + " but the input is " +
                           DTypeName(x.dtype()));
  }
  DOPT_ASSIGN_OR_RETURN(QuantAxisLayout l,
                        GetQuantAxisLayout(node, x.shape(), scale.shape(), zp ? &zp->shape() : nullptr, axis));
  Tensor& y = ctx.Output(0, DType::kFloat32, x.shape());
  const float* sp = scale.data<float>();
  float* yp = y.data<float>();
  switch (x.dtype()) {
#define DOPT_CASE(DT, T) \
  case DT: Dequantize<T>(x.data<T>(), sp, zp ? zp->data<T>() : nullptr, l, yp, ctx.pool()); break;
    DOPT_CASE(DType::kInt8, int8_t)
    DOPT_CASE(DType::kUInt8, uint8_t)
    DOPT_CASE(DType::kInt16, int16_t)
    DOPT_CASE(DType::kInt32, int32_t)
#undef DOPT_CASE
    default: return InvalidArgument(std::string("input has unsupported type ") + DTypeName(x.dtype()));
  }
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_DequantizeLinear() {
  static const OpDef def{
      .name = "DequantizeLinear",
      .min_inputs = 2,
      .max_inputs = 3,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 10; 13: axis (default 1, only read for the 1-D scales 10 did not "
                                 "allow); 19: types; 21: block_size (default 0: off) and types"),
      .quant = NoQuantRole(),  // it is quantization itself
  };
  return def;
}

}  // namespace dopt
