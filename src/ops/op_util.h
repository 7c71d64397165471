// Shared pieces for op files: broadcasting, axis handling, elementwise kernels, checks.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "ops/op.h"

namespace dopt {

// Normalises a possibly negative axis against `rank`; error names the node.
StatusOr<int> NormalizeAxis(const Node& node, int64_t axis, int rank);

// Numpy-style broadcast of shapes; unknown dims (-1) stay unknown unless the other is > 1.
StatusOr<Shape> BroadcastShapes(const Node& node, const Shape& a, const Shape& b);

// Fails unless input i has one of the listed dtypes.
Status CheckInputDType(const InferContext& ctx, int i, std::initializer_list<DType> allowed);

// Shape rule for ops whose single output has input 0's dtype and shape.
Status InferSameAsInput0(InferContext& ctx);
// Same, but the input must be a float type.
Status InferFloatUnary(InferContext& ctx);
// Shape rule of the global pools: X [N, C, spatial...] (rank >= 2) -> [N, C, 1, ...], X's dtype.
Status InferGlobalPool(InferContext& ctx);

// Runs y = f(x) over a float tensor, in parallel.
template <typename F>
Status RunFloatUnary(KernelContext& ctx, F f) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::kFloat32) return InvalidArgument(std::string("expected float input, got ") + DTypeName(x.dtype()));
  Tensor& y = ctx.OutputUninitialized(0, DType::kFloat32, x.shape());
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  auto body = [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) yp[i] = f(xp[i]);
  };
  if (ctx.pool()) ctx.pool()->ParallelFor(x.numel(), 1 << 14, body);
  else body(0, x.numel());
  return Status::Ok();
}

// Runs an array kernel fn(const float* x, float* y, int64_t n) over a float tensor, one call
// per parallel chunk (the kernels/vmath.h functions: their results do not depend on the
// chunking).
template <typename F>
Status RunFloatUnaryArray(KernelContext& ctx, F fn) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::kFloat32) return InvalidArgument(std::string("expected float input, got ") + DTypeName(x.dtype()));
  Tensor& y = ctx.OutputUninitialized(0, DType::kFloat32, x.shape());
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  auto body = [&](int64_t b, int64_t e) { fn(xp + b, yp + b, e - b); };
  if (ctx.pool()) ctx.pool()->ParallelFor(x.numel(), 1 << 14, body);
  else body(0, x.numel());
  return Status::Ok();
}

// Broadcasting binary op over two inputs of the same dtype T: out[i] = f(a[.], b[.]).
// Output dtype is OutT (bool comparisons would use uint8).
struct BroadcastPlan {
  Shape out_shape;
  std::vector<int64_t> a_strides, b_strides;  // per output dim; 0 where broadcast
  bool same_shape = false;
};
StatusOr<BroadcastPlan> PlanBroadcast(const Node& node, const Shape& a, const Shape& b);

// Merges adjacent dims d, d+1 of a broadcast loop along which every input steps on without a
// jump (strides[k][d] == strides[k][d+1] * dims[d+1]; a broadcast pair 0, 0 meets it too) and
// drops size-1 dims: the same elements in the same order, in fewer and longer rows. All dims of
// size 1 leave no dims (one element at offset 0).
void CollapseBroadcastDims(std::vector<int64_t>* dims, std::vector<std::vector<int64_t>>* strides);

// One row of a broadcasting binary op: o[i] = f(a[i * as], b[i * bs]), with the common stride
// pairs (1, 1), (1, 0) and (0, 1) as loops the compiler can vectorise.
template <typename T, typename OutT, typename F>
inline void BroadcastRow(OutT* o, const T* a, const T* b, int64_t n, int64_t as, int64_t bs, F& f) {
  if (as == 1 && bs == 1) {
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
  } else if (as == 1 && bs == 0) {
    const T bv = *b;
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], bv);
  } else if (as == 0 && bs == 1) {
    const T av = *a;
    for (int64_t i = 0; i < n; ++i) o[i] = f(av, b[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i * as], b[i * bs]);
  }
}

template <typename T, typename OutT, typename F>
void RunBroadcast(const BroadcastPlan& plan, const T* a, const T* b, OutT* out, ThreadPool* pool, F f) {
  const int64_t n = NumElements(plan.out_shape);
  // Nothing to compute; also, the row positioning below divides by every outer dim.
  if (n == 0) return;
  if (plan.same_shape) {
    auto body = [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) out[i] = f(a[i], b[i]);
    };
    if (pool) pool->ParallelFor(n, 1 << 14, body);
    else body(0, n);
    return;
  }
  std::vector<int64_t> dims = plan.out_shape;
  std::vector<std::vector<int64_t>> st{plan.a_strides, plan.b_strides};
  CollapseBroadcastDims(&dims, &st);
  if (dims.empty()) {
    out[0] = f(a[0], b[0]);
    return;
  }
  const std::vector<int64_t>& ast = st[0];
  const std::vector<int64_t>& bst = st[1];
  const int rank = (int)dims.size();
  const int64_t inner = dims[rank - 1];
  const int64_t as = ast[rank - 1], bs = bst[rank - 1];
  const int64_t rows = n / inner;
  auto body = [&](int64_t r0, int64_t r1) {
    std::vector<int64_t> idx(rank - 1, 0);
    // Position idx at row r0.
    int64_t r = r0;
    for (int d = rank - 2; d >= 0; --d) {
      idx[d] = r % dims[d];
      r /= dims[d];
    }
    for (int64_t row = r0; row < r1; ++row) {
      int64_t ao = 0, bo = 0;
      for (int d = 0; d < rank - 1; ++d) {
        ao += idx[d] * ast[d];
        bo += idx[d] * bst[d];
      }
      BroadcastRow(out + row * inner, a + ao, b + bo, inner, as, bs, f);
      for (int d = rank - 2; d >= 0; --d) {
        if (++idx[d] < dims[d]) break;
        idx[d] = 0;
      }
    }
  };
  if (pool) pool->ParallelFor(rows, std::max<int64_t>(1, (1 << 14) / inner), body);
  else body(0, rows);
}

// Shape rule for broadcasting binary ops: both inputs share a dtype from `allowed`.
Status InferBroadcastBinary(InferContext& ctx, std::initializer_list<DType> allowed);

// The numeric types arithmetic ops accept (float16/bfloat16 compute as float32).
#define DOPT_ARITH_TYPES {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kInt32, DType::kInt64, \
                          DType::kInt8, DType::kUInt8}

// Runs a broadcasting arithmetic op; `f` is a generic lambda (auto a, auto b) -> same type.
template <typename F>
Status RunBinaryArith(KernelContext& ctx, F f) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  if (a.dtype() != b.dtype()) {
    return InvalidArgument(std::string("inputs have different types ") + DTypeName(a.dtype()) + " and " +
                           DTypeName(b.dtype()));
  }
  DOPT_ASSIGN_OR_RETURN(BroadcastPlan plan, PlanBroadcast(ctx.node(), a.shape(), b.shape()));
  Tensor& y = ctx.OutputUninitialized(0, a.dtype(), plan.out_shape);
  switch (a.dtype()) {
#define DOPT_CASE(DT, T)                                                                            \
  case DT:                                                                                          \
    RunBroadcast<T, T>(plan, a.data<T>(), b.data<T>(), y.data<T>(), ctx.pool(),                     \
                       [&](T x, T z) { return (T)f(x, z); });                                       \
    return Status::Ok();
    DOPT_CASE(DType::kFloat32, float)
    DOPT_CASE(DType::kInt32, int32_t)
    DOPT_CASE(DType::kInt64, int64_t)
    DOPT_CASE(DType::kInt8, int8_t)
    DOPT_CASE(DType::kUInt8, uint8_t)
#undef DOPT_CASE
    default:
      return InvalidArgument(std::string("unsupported input type ") + DTypeName(a.dtype()));
  }
}

// Calls f(T{}) with an unsigned integer type T of `elem_size` bytes (1, 2, 4 or 8), for
// kernels that only move elements around; returns false for other sizes.
template <typename F>
bool DispatchByElemSize(size_t elem_size, F f) {
  switch (elem_size) {
    case 1: f(uint8_t{}); return true;
    case 2: f(uint16_t{}); return true;
    case 4: f(uint32_t{}); return true;
    case 8: f(uint64_t{}); return true;
    default: return false;
  }
}

// Resize kernel shared by Resize and Upsample (defined in resize.cc). `scales` and `roi`
// (starts then ends) have one entry per dim of x (roi only for tf_crop_and_resize).
struct ResizeSpec {
  std::string mode = "nearest";  // nearest | linear | cubic
  std::string coord_mode = "half_pixel";
  std::string nearest_mode = "round_prefer_floor";
  float cubic_a = -0.75f;
  bool exclude_outside = false;
  float extrapolation_value = 0.f;
  std::vector<float> scales;
  std::vector<float> roi;
  Shape out_shape;
};
Status RunResizeKernel(const Node& node, const Tensor& x, const ResizeSpec& spec, Tensor* y, ThreadPool* pool);

}  // namespace dopt

namespace dopt {

// The most dims a rank known only from a shape input's declared length may have: a longer one
// (a malformed value_info, found by the onnx_loader fuzzer at 2^44 entries) leaves the output's
// rank unknown instead of allocating that many dims.
constexpr int64_t kMaxDeclaredRank = 64;

// Runs fn(0, n) through the pool when there is one, else inline (shape-inference folding).
inline void ParallelForOrInline(ThreadPool* pool, int64_t n, int64_t grain,
                                const std::function<void(int64_t, int64_t)>& fn) {
  if (pool) pool->ParallelFor(n, grain, fn);
  else if (n > 0) fn(0, n);
}

// Calls f(T{}) with the C++ type T of a numeric compute dtype (float32 -> float, int8, uint8,
// int16, int32, int64) and returns its Status; other dtypes are an InvalidArgument error.
template <typename F>
Status VisitNumericDType(DType t, F&& f) {
  switch (t) {
    case DType::kFloat32: return f(float{});
    case DType::kInt8: return f(int8_t{});
    case DType::kUInt8: return f(uint8_t{});
    case DType::kInt16: return f(int16_t{});
    case DType::kInt32: return f(int32_t{});
    case DType::kInt64: return f(int64_t{});
    default: return InvalidArgument(std::string("unsupported tensor type ") + DTypeName(t));
  }
}

// Layout of QuantizeLinear/DequantizeLinear parameters against x: per-tensor when the scale
// has one element, else per-axis (a 1-D scale of x.shape[axis] elements). x viewed as
// [outer, channels, inner]; per-tensor is [1, 1, numel]. Unknown dims (-1) in x are accepted
// when `allow_unknown` (shape inference), the counts are then meaningless.
struct QuantAxisLayout {
  bool per_axis = false;
  int axis = 0;
  int64_t outer = 1, channels = 1, inner = 1;
};
StatusOr<QuantAxisLayout> GetQuantAxisLayout(const Node& node, const Shape& x, const Shape& scale,
                                             const Shape* zero_point, int64_t axis, bool allow_unknown = false);
// Shared shape rule of QuantizeLinear / DequantizeLinear: rejects block_size, reads `axis`
// and, where the shapes are known, checks scale / zero point against input 0 along it.
Status CheckQuantAxisInputs(const InferContext& ctx);

// Shape rule for variadic broadcasting ops (Max, Min, ...): every present input has the same
// dtype from `allowed`; the output shape is their joint broadcast.
Status InferBroadcastVariadic(InferContext& ctx, std::initializer_list<DType> allowed);

// Runs a variadic broadcasting op left to right: y = f(f(x0, x1), x2)...; `f` is a generic
// lambda (auto a, auto b) -> same type. One input: y shares x0's buffer.
template <typename F>
Status RunBroadcastVariadic(KernelContext& ctx, F f) {
  const Tensor& x0 = ctx.input(0);
  for (int i = 1; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) return InvalidArgument("input " + std::to_string(i) + " is missing");
    if (ctx.input(i).dtype() != x0.dtype()) {
      return InvalidArgument(std::string("inputs have different types ") + DTypeName(x0.dtype()) + " and " +
                             DTypeName(ctx.input(i).dtype()));
    }
  }
  if (ctx.num_inputs() == 1) {
    ctx.SetOutput(0, x0);
    return Status::Ok();
  }
  return VisitNumericDType(x0.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    Tensor acc = x0;
    for (int i = 1; i < ctx.num_inputs(); ++i) {
      const Tensor& b = ctx.input(i);
      DOPT_ASSIGN_OR_RETURN(BroadcastPlan plan, PlanBroadcast(ctx.node(), acc.shape(), b.shape()));
      Tensor out(x0.dtype(), plan.out_shape);
      RunBroadcast<T, T>(plan, acc.data<T>(), b.data<T>(), out.data<T>(), ctx.pool(),
                         [&](T x, T z) { return (T)f(x, z); });
      acc = std::move(out);
    }
    ctx.SetOutput(0, std::move(acc));
    return Status::Ok();
  });
}

// Shapes of a numpy-style matrix product a x b (MatMul, MatMulInteger, QLinearMatMul): 1-D
// operands promoted and squeezed, batch dims broadcast. Unknown dims (-1) stay unknown.
struct MatMulShapes {
  Shape batch;      // broadcast batch dims
  int64_t M = -1, K = -1, N = -1;
  Shape out;
};

StatusOr<MatMulShapes> PlanMatMulShapes(const Node& node, const Shape& a, const Shape& b);

// Epilogue steps (OpDef::epilogue). A unary op's node is the step `op` with arguments a, b.
bool UnaryEpilogue(const EpilogueQuery& q, kernels::EpilogueStep* s, kernels::EpilogueStep::Op op, float a = 0.f,
                   float b = 0.f);
// A binary op's node: with a constant other operand, the step `chain_first` when the chain is
// input 0 and `chain_second` when it is input 1; with an earlier chain value as the other
// operand, `root` (kNumOps: not allowed). The constant must be one value or one per channel (shape [C, 1, ...]
// right-aligned to the output's rank, no larger than it).
bool BinaryEpilogue(const EpilogueQuery& q, kernels::EpilogueStep* s, kernels::EpilogueStep::Op chain_first,
                    kernels::EpilogueStep::Op chain_second, kernels::EpilogueStep::Op root);

// An epilogue program kept on a node as internal attributes (never exported):
// dopt.epilogue_ops (ints: the step's op, + 1000 when it has a per-channel constant),
// dopt.epilogue_args (floats: a, b per step), dopt.epilogue_channels (floats: the per-channel
// constants, one run of `channels` values per step that has one, in step order).
void SetEpilogueAttrs(Node& node, const std::vector<kernels::EpilogueStep>& steps);
// The node's program; empty when it has none.
StatusOr<std::vector<kernels::EpilogueStep>> GetEpilogueAttrs(const Node& node);

// ---- channels-last (OpDef::channels_last; the executor's channels_last pass) ----
// Whether the channels_last pass set dopt.channels_last = 1 on the node (its 4-D activations
// are then [N, H, W, C]).
bool IsChannelsLast(const Node& node);
// [N, C, H, W] -> [N, H, W, C], and back; other ranks are returned unchanged.
Shape ToChannelsLast(const Shape& s);
Shape ToChannelsFirst(const Shape& s);
// Input 0 fed channels-last: it and the node's one output are 4-D float (Resize: a kernel that
// needs no attribute, only permuted constants).
bool Input0ChannelsLast(const Graph& g, const Node& n, ChannelsLastPlan* plan);
// OpDef::channels_last of ops whose kernel reads input 0 channels-last under the attribute
// dopt.channels_last = 1 (the pools; Conv, which is also an anchor).
bool KernelChannelsLast(const Graph& g, const Node& n, ChannelsLastPlan* plan);
// OpDef::channels_last of element-wise (broadcasting) ops: every non-constant input 4-D and
// float, fed channels-last; each constant of more than one value is right-aligned to rank 4
// and permuted the same way.
bool ElementwiseChannelsLast(const Graph& g, const Node& n, ChannelsLastPlan* plan);

}  // namespace dopt
