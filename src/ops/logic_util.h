// Shared pieces of the comparison, logic and selection ops (Equal, Less, And, Where, Mod, ...):
// a dtype visitor that includes bool, the bool-output broadcasting shape rule and kernel, and an
// N-input broadcasting loop over per-input element strides.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "ops/op_util.h"

namespace dopt {

// Calls f(T{}) with the C++ type of a compute dtype, bool included (as uint8_t 0/1).
template <typename F>
Status VisitNumericOrBoolDType(DType t, F&& f) {
  if (t == DType::kBool) return f(uint8_t{});
  return VisitNumericDType(t, f);
}

// Element strides of a tensor of `in` broadcast to `out` (0 along broadcast dims), one per out dim.
inline std::vector<int64_t> BroadcastStrides(const Shape& in, const Shape& out) {
  const int r = (int)out.size(), ri = (int)in.size();
  std::vector<int64_t> s(r, 0);
  int64_t st = 1;
  for (int d = ri - 1; d >= 0; --d) {
    const int od = d + (r - ri);
    s[od] = in[d] == 1 ? 0 : st;
    st *= in[d];
  }
  return s;
}

// Calls f(i, offs, steps, len) for runs of output elements i .. i+len-1 (row-major over
// `out`, in parallel chunks), where offs[k] is the element offset of input k at i (its strides
// from BroadcastStrides) and steps[k] its stride along the run. The dims are collapsed first
// (CollapseBroadcastDims), so a run is as long as the inputs allow.
template <typename F>
void ForEachBroadcastRun(const Shape& out, std::vector<std::vector<int64_t>> strides, ThreadPool* pool, F f) {
  const int64_t n = NumElements(out);
  if (n == 0) return;
  std::vector<int64_t> dims = out;
  CollapseBroadcastDims(&dims, &strides);
  const size_t k = strides.size();
  const int rank = (int)dims.size();
  if (rank == 0) {
    const std::vector<int64_t> zeros(k, 0);
    f(int64_t{0}, zeros.data(), zeros.data(), int64_t{1});
    return;
  }
  const int64_t last = dims[rank - 1];
  std::vector<int64_t> step(k);
  for (size_t j = 0; j < k; ++j) step[j] = strides[j][rank - 1];
  ParallelForOrInline(pool, n, 1 << 14, [&](int64_t s, int64_t e) {
    std::vector<int64_t> idx(rank, 0), offs(k, 0);
    int64_t r = s;
    for (int d = rank - 1; d >= 0; --d) {
      idx[d] = r % dims[d];
      r /= dims[d];
      for (size_t j = 0; j < k; ++j) offs[j] += idx[d] * strides[j][d];
    }
    for (int64_t i = s; i < e;) {
      const int64_t run = std::min(last - idx[rank - 1], e - i);
      f(i, offs.data(), step.data(), run);
      i += run;
      // Advance the position by `run` along the last dim, carrying into the outer dims.
      for (size_t j = 0; j < k; ++j) offs[j] += run * step[j];
      idx[rank - 1] += run;
      for (int d = rank - 1; d > 0 && idx[d] == dims[d]; --d) {
        for (size_t j = 0; j < k; ++j) offs[j] += strides[j][d - 1] - idx[d] * strides[j][d];
        idx[d] = 0;
        ++idx[d - 1];
      }
    }
  });
}

// o[i] = src[i * step] for i < n: a memcpy for step 1, a fill for step 0.
template <typename T>
inline void CopyStridedRun(T* o, const T* src, int64_t n, int64_t step) {
  if (step == 1) std::copy(src, src + n, o);
  else if (step == 0) std::fill(o, o + n, *src);
  else
    for (int64_t i = 0; i < n; ++i) o[i] = src[i * step];
}

// Shape rule of a broadcasting binary op whose inputs share a dtype from `allowed` and whose
// output is `out` (kBool for comparisons; kUndefined: the inputs' dtype).
Status InferBroadcastBinaryTo(InferContext& ctx, std::initializer_list<DType> allowed, DType out);

// Runs a broadcasting comparison / logic op: inputs of one dtype (bool included), a bool output
// y = f(a, b) (f returns bool; bool inputs arrive as uint8_t 0/1).
template <typename F>
Status RunBinaryToBool(KernelContext& ctx, F f) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  if (a.dtype() != b.dtype()) {
    return InvalidArgument(ctx.node().Describe() + ": inputs have different types " + DTypeName(a.dtype()) + " and " +
                           DTypeName(b.dtype()));
  }
  DOPT_ASSIGN_OR_RETURN(BroadcastPlan plan, PlanBroadcast(ctx.node(), a.shape(), b.shape()));
  Tensor& y = ctx.OutputUninitialized(0, DType::kBool, plan.out_shape);
  return VisitNumericOrBoolDType(a.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    RunBroadcast<T, uint8_t>(plan, a.data<T>(), b.data<T>(), y.data<uint8_t>(), ctx.pool(),
                             [&](T x, T z) { return (uint8_t)(f(x, z) ? 1 : 0); });
    return Status::Ok();
  });
}

// The dtypes comparisons accept (float16/bfloat16 compute as float32).
#define DOPT_COMPARE_TYPES {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kInt8, DType::kUInt8, \
                            DType::kInt16, DType::kInt32, DType::kInt64}

// ONNX TensorProto data type number -> dtype (the types dopt computes); error otherwise.
StatusOr<DType> DTypeFromOnnx(const Node& node, int64_t onnx_type);

}  // namespace dopt
