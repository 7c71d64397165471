// Shared pieces of elementwise unary ops beyond op_util.h's float ones (InferFloatUnary,
// RunFloatUnary): ops over every numeric type (Abs, Sign, Shrink), float -> bool tests (IsNaN,
// IsInf), the overflow-free softplus (Softplus, Mish). Kernels are one loop over the elements, split
// across the pool like RunFloatUnary.
#pragma once

#include <cmath>
#include <string>

#include "ops/op_util.h"

namespace dopt {

// The types of ONNX's "all numeric types" that dopt's tensors hold (float16/bfloat16 compute as
// float32; dopt has no uint16/32/64 or double).
#define DOPT_UNARY_NUMERIC_TYPES {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kInt8, DType::kUInt8, \
                                  DType::kInt16, DType::kInt32, DType::kInt64}

// Shape rule: output = input 0's dtype and shape, the input a numeric type.
inline Status InferNumericUnary(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, DOPT_UNARY_NUMERIC_TYPES));
  return InferSameAsInput0(ctx);
}

// Runs y = f(x) over a numeric tensor, in parallel; `f` is a generic lambda (auto x) whose
// result is converted to x's type.
template <typename F>
Status RunNumericUnary(KernelContext& ctx, F f) {
  const Tensor& x = ctx.input(0);
  return VisitNumericDType(x.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    Tensor& y = ctx.OutputUninitialized(0, x.dtype(), x.shape());
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    ParallelForOrInline(ctx.pool(), x.numel(), 1 << 14, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) yp[i] = static_cast<T>(f(xp[i]));
    });
    return Status::Ok();
  });
}

// Shape rule of a float -> bool test (IsNaN, IsInf): same shape, bool output.
inline Status InferFloatPredicate(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  const ValueInfo& x = ctx.input(0);
  if (x.rank_known) ctx.SetOutput(0, DType::kBool, x.shape);
  else ctx.SetOutputUnknownRank(0, DType::kBool);
  return Status::Ok();
}

// Runs y = p(x) (bool, stored as uint8 0/1) over a float tensor, in parallel.
template <typename P>
Status RunFloatPredicate(KernelContext& ctx, P p) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::kFloat32) return InvalidArgument(std::string("expected float input, got ") + DTypeName(x.dtype()));
  Tensor& y = ctx.OutputUninitialized(0, DType::kBool, x.shape());
  const float* xp = x.data<float>();
  uint8_t* yp = y.data<uint8_t>();
  ParallelForOrInline(ctx.pool(), x.numel(), 1 << 14, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) yp[i] = p(xp[i]) ? 1 : 0;
  });
  return Status::Ok();
}

// ln(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|)) (Softplus, Mish).
inline float SoftplusValue(float x) { return std::fmax(x, 0.f) + std::log1p(std::exp(-std::fabs(x))); }

}  // namespace dopt
