// QuantizeLinear: y = saturate(round_half_even(x / y_scale) + y_zero_point).
// Per-tensor (scalar scale) or per-axis (1-D scale along `axis`, default 1). The output type
// is y_zero_point's (int8, uint8 or int16); without a zero point it is `output_dtype` when
// given (opset 21), else uint8 with zero point 0. x may be float or int32. NaN quantizes to
// the zero point. Block quantization (`block_size`) is not supported.
#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/op_util.h"

namespace dopt {
namespace {

#define DOPT_QL_FLOAT_TYPES {DType::kFloat32, DType::kFloat16, DType::kBFloat16}

StatusOr<DType> OutputDType(const Node& node, DType zero_point) {
  if (zero_point != DType::kUndefined) return zero_point;
  DOPT_ASSIGN_OR_RETURN(int64_t od, node.GetInt("output_dtype", 0));
  switch (od) {
    case 0:
    case 2: return DType::kUInt8;
    case 3: return DType::kInt8;
    case 5: return DType::kInt16;
    default: return Unimplemented(node.Describe() + ": output_dtype " + std::to_string(od) + " is not supported");
  }
}

Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kInt32}));
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, DOPT_QL_FLOAT_TYPES));
  DType zp = DType::kUndefined;
  if (ctx.has_input(2)) {
    DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 2, {DType::kInt8, DType::kUInt8, DType::kInt16}));
    zp = ctx.input(2).dtype;
    if (zp == DType::kUndefined) return InvalidArgument(node.Describe() + ": zero point has no known type");
  }
  DOPT_ASSIGN_OR_RETURN(DType out, OutputDType(node, zp));
  DOPT_RETURN_IF_ERROR(CheckQuantAxisInputs(ctx));
  const ValueInfo& x = ctx.input(0);
  if (x.rank_known) ctx.SetOutput(0, out, x.shape);
  else ctx.SetOutputUnknownRank(0, out);
  return Status::Ok();
}

template <typename Q>
void Quantize(const float* x, const float* scale, const Tensor* zp, const QuantAxisLayout& l, Q* y, ThreadPool* pool) {
  const float qmin = (float)std::numeric_limits<Q>::lowest(), qmax = (float)std::numeric_limits<Q>::max();
  const Q* zpp = zp ? zp->data<Q>() : nullptr;
  const int64_t blocks = l.outer * l.channels;
  ParallelForOrInline(pool, blocks, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, l.inner)),
                      [&](int64_t b0, int64_t b1) {
                        for (int64_t blk = b0; blk < b1; ++blk) {
                          const int64_t c = blk % l.channels;
                          const float s = scale[c];
                          const float z = zpp ? (float)zpp[c] : 0.f;
                          const float* xs = x + blk * l.inner;
                          Q* ys = y + blk * l.inner;
                          for (int64_t i = 0; i < l.inner; ++i) {
                            // Default rounding mode: ties go to the even neighbour.
                            float v = std::nearbyint(xs[i] / s) + z;
                            if (v != v) v = z;
                            v = v < qmin ? qmin : v > qmax ? qmax : v;
                            ys[i] = static_cast<Q>(v);
                          }
                        }
                      });
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  DOPT_ASSIGN_OR_RETURN(int64_t axis, node.GetInt("axis", 1));
  const Tensor& x_in = ctx.input(0);
  const Tensor& scale = ctx.input(1);
  const Tensor* zp = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  if (x_in.dtype() != DType::kFloat32 && x_in.dtype() != DType::kInt32) {
    return InvalidArgument(std::string("input has unsupported type ") + DTypeName(x_in.dtype()));
  }
  if (scale.dtype() != DType::kFloat32) return InvalidArgument(std::string("scale has type ") + DTypeName(scale.dtype()));
  DOPT_ASSIGN_OR_RETURN(DType out, OutputDType(node, zp ? zp->dtype() : DType::kUndefined));
  DOPT_ASSIGN_OR_RETURN(QuantAxisLayout l,
                        GetQuantAxisLayout(node, x_in.shape(), scale.shape(), zp ? &zp->shape() : nullptr, axis));
  const Tensor x = x_in.dtype() == DType::kFloat32 ? x_in : x_in.CastTo(DType::kFloat32);
  Tensor& y = ctx.Output(0, out, x.shape());
  switch (out) {
    case DType::kUInt8: Quantize<uint8_t>(x.data<float>(), scale.data<float>(), zp, l, y.data<uint8_t>(), ctx.pool()); break;
    case DType::kInt8: Quantize<int8_t>(x.data<float>(), scale.data<float>(), zp, l, y.data<int8_t>(), ctx.pool()); break;
    case DType::kInt16: Quantize<int16_t>(x.data<float>(), scale.data<float>(), zp, l, y.data<int16_t>(), ctx.pool()); break;
    default: return InvalidArgument(std::string("zero point has unsupported type ") + DTypeName(out));
  }
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_QuantizeLinear() {
  static const OpDef def{
      .name = "QuantizeLinear",
      .min_inputs = 2,
      .max_inputs = 3,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 10; 13: axis (default 1, only read for the 1-D scales 10 did not "
                                 "allow); 19: saturate (float8 only) and types; 21: block_size, output_dtype "
                                 "(defaults: off, the zero point's type) and types"),
      .quant = NoQuantRole(),  // it is quantization itself
  };
  return def;
}

}  // namespace dopt
