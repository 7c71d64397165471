// What the Reduce* ops (Sum, Mean, Max, Min, Prod, L1, L2, LogSum, LogSumExp, SumSquare) share:
// axes (attribute before the opset that moved them to
// input 1, input 1 after; none = all dims unless noop_with_empty_axes=1), keepdims (default
// 1), float (and for some int32/int64), one output element per task (results do not depend on the thread count),
// and the opset upgrade rule. Sum, Max, Min and Prod also reduce int32/int64 (in int64, wrapping
// as the integer type does).
// `Acc` provides: static S Init(); static S Add(S acc, float x); static float Done(S acc,
// int64_t count), where S is the accumulator state (double for most; a struct for LogSumExp).
#pragma once

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "ops/op_upgrade.h"
#include "ops/op_util.h"

namespace dopt {
namespace reduce_common {

inline StatusOr<std::vector<bool>> ReducedDims(const Node& node, int rank, const std::vector<int64_t>& axes, bool* noop) {
  DOPT_ASSIGN_OR_RETURN(int64_t noop_empty, node.GetInt("noop_with_empty_axes", 0));
  *noop = axes.empty() && noop_empty != 0;
  std::vector<bool> red(rank, axes.empty() && !*noop);
  for (int64_t a : axes) {
    if (a < -rank || a >= rank) {
      return InvalidArgument(node.Describe() + ": axis " + std::to_string(a) + " is out of range for rank " +
                             std::to_string(rank));
    }
    red[a < 0 ? a + rank : a] = true;
  }
  return red;
}

inline Shape OutShape(const Shape& in, const std::vector<bool>& red, bool keep) {
  Shape out;
  for (size_t d = 0; d < in.size(); ++d) {
    if (!red[d]) out.push_back(in[d]);
    else if (keep) out.push_back(1);
  }
  return out;
}

// kInts: the op also takes int32 and int64 (ReduceSum, ReduceMax, ReduceMin, ReduceProd).
template <bool kInts = false>
Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  if (kInts) {
    DOPT_RETURN_IF_ERROR(
        CheckInputDType(ctx, 0, {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kInt32, DType::kInt64}));
  } else {
    DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  }
  const ValueInfo& x = ctx.input(0);
  DOPT_ASSIGN_OR_RETURN(int64_t keep, node.GetInt("keepdims", 1));
  std::vector<int64_t> axes;
  if (ctx.has_input(1)) {
    DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kInt64}));
    if (!ctx.input(1).value) {
      if (keep && x.rank_known) ctx.SetOutput(0, x.dtype, Shape(x.shape.size(), -1));
      else ctx.SetOutputUnknownRank(0, x.dtype);
      return Status::Ok();
    }
    axes = ctx.input(1).value->ToInt64Vector();
  } else {
    DOPT_ASSIGN_OR_RETURN(axes, node.GetInts("axes"));
  }
  if (!x.rank_known) {
    ctx.SetOutputUnknownRank(0, x.dtype);
    return Status::Ok();
  }
  bool noop = false;
  DOPT_ASSIGN_OR_RETURN(std::vector<bool> red, ReducedDims(node, (int)x.shape.size(), axes, &noop));
  ctx.SetOutput(0, x.dtype, noop ? x.shape : OutShape(x.shape, red, keep != 0));
  return Status::Ok();
}

// Opset upgrade: the axes attribute becomes optional input 1 at opset kVersion (ReduceSum 13,
// ReduceMean and ReduceMax 18), which also adds noop_with_empty_axes. Its default 0 keeps the
// old meaning of no axes (and of an empty list): every axis.
template <int kVersion>
Status UpgradeAxes(Graph& g, int ni, int from, int to) {
  return UpgradeAxesAttrToInput(g, ni, from, to, kVersion, AxesWhenAbsent::kReduceAll);
}

// Acc's starting value for elements of type T: Acc::Init<T>() where Acc has one (an integer
// max / min starts at T's own extreme), else Acc::Init().
template <typename Acc, typename T>
auto InitFor() {
  if constexpr (requires { Acc::template Init<T>(); }) return Acc::template Init<T>();
  else return Acc::Init();
}

// The walk over x (element type T, output element type of Acc::Done) for the reduced dims.
template <typename Acc, typename T>
void Reduce(KernelContext& ctx, const Tensor& x, const std::vector<bool>& red, Tensor& y) {
  const int rank = x.rank();
  std::vector<int64_t> stride(rank, 1);
  for (int d = rank - 2; d >= 0; --d) stride[d] = stride[d + 1] * x.dim(d + 1);
  Shape kdims, rdims;
  std::vector<int64_t> kstride, rstride;
  int64_t count = 1;
  for (int d = 0; d < rank; ++d) {
    if (red[d]) count *= x.dim(d);
    if (x.dim(d) == 1) continue;
    (red[d] ? rdims : kdims).push_back(x.dim(d));
    (red[d] ? rstride : kstride).push_back(stride[d]);
  }
  const T* xp = x.data<T>();
  auto* yp = y.data<decltype(Acc::Done(InitFor<Acc, T>(), 0))>();
  // Reduced dims that are the innermost and contiguous make the inner loop a plain scan (same
  // order as the general walk, so the same result).
  const bool tail = !rdims.empty() && [&] {
    int64_t acc = 1;
    for (int k = (int)rdims.size() - 1; k >= 0; --k) {
      if (rstride[k] != acc) return false;
      acc *= rdims[k];
    }
    return true;
  }();
  auto offset_of = [&](int64_t o) {
    int64_t rem = o, off = 0;
    for (int k = (int)kdims.size() - 1; k >= 0; --k) {
      off += (rem % kdims[k]) * kstride[k];
      rem /= kdims[k];
    }
    return off;
  };
  auto body = [&](int64_t b, int64_t e) {
    std::vector<int64_t> ridx(rdims.size());
    int64_t o = b;
    if (tail) {
      // Eight outputs at a time: each accumulates its scan in order (the same result), eight
      // independent chains keeping the adder busy instead of one waiting on each add.
      constexpr int kRows = 8;
      for (; o + kRows <= e; o += kRows) {
        const T* p[kRows];
        auto acc0 = InitFor<Acc, T>();
        decltype(acc0) acc[kRows];
        for (int j = 0; j < kRows; ++j) {
          p[j] = xp + offset_of(o + j);
          acc[j] = acc0;
        }
        for (int64_t i = 0; i < count; ++i)
          for (int j = 0; j < kRows; ++j) acc[j] = Acc::Add(acc[j], p[j][i]);
        for (int j = 0; j < kRows; ++j) yp[o + j] = Acc::Done(acc[j], count);
      }
    }
    for (; o < e; ++o) {
      int64_t off = offset_of(o);
      auto acc = InitFor<Acc, T>();
      if (tail) {
        const T* p = xp + off;
        for (int64_t i = 0; i < count; ++i) acc = Acc::Add(acc, p[i]);
        yp[o] = Acc::Done(acc, count);
        continue;
      }
      std::fill(ridx.begin(), ridx.end(), 0);
      for (int64_t i = 0; i < count; ++i) {
        acc = Acc::Add(acc, xp[off]);
        for (int k = (int)rdims.size() - 1; k >= 0; --k) {
          off += rstride[k];
          if (++ridx[k] < rdims[k]) break;
          off -= ridx[k] * rstride[k];
          ridx[k] = 0;
        }
      }
      yp[o] = Acc::Done(acc, count);
    }
  };
  const int64_t n_out = y.numel();
  if (ctx.pool()) ctx.pool()->ParallelFor(n_out, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(count, 1)), body);
  else body(0, n_out);
}

// Acc reduces floats (Add(S, float), Done -> float); IntAcc, when given, int32 and int64
// (Add(int64_t, int64_t), Done -> int64_t, the result cast back to the input's type).
template <typename Acc, typename IntAcc = void>
Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  const Tensor& x = ctx.input(0);
  constexpr bool kInts = !std::is_void_v<IntAcc>;
  const bool is_int = x.dtype() == DType::kInt32 || x.dtype() == DType::kInt64;
  if (x.dtype() != DType::kFloat32 && !(kInts && is_int)) {
    return InvalidArgument(node.Describe() + ": expected " + (kInts ? "float or integer" : "float") + " input, got " +
                           DTypeName(x.dtype()));
  }
  DOPT_ASSIGN_OR_RETURN(int64_t keep, node.GetInt("keepdims", 1));
  std::vector<int64_t> axes;
  if (ctx.has_input(1)) {
    axes = ctx.input(1).ToInt64Vector();
  } else {
    DOPT_ASSIGN_OR_RETURN(axes, node.GetInts("axes"));
  }
  bool noop = false;
  DOPT_ASSIGN_OR_RETURN(std::vector<bool> red, ReducedDims(node, x.rank(), axes, &noop));
  if (noop) {
    ctx.SetOutput(0, x);
    return Status::Ok();
  }
  const Shape out = OutShape(x.shape(), red, keep != 0);
  if constexpr (kInts) {
    if (is_int) {
      Tensor& y = ctx.Output(0, DType::kInt64, out);
      if (x.dtype() == DType::kInt64) Reduce<IntAcc, int64_t>(ctx, x, red, y);
      else Reduce<IntAcc, int32_t>(ctx, x, red, y);
      if (x.dtype() == DType::kInt32) ctx.SetOutput(0, y.CastTo(DType::kInt32));
      return Status::Ok();
    }
  }
  Reduce<Acc, float>(ctx, x, red, ctx.Output(0, DType::kFloat32, out));
  return Status::Ok();
}

}  // namespace reduce_common

// ---- ArgMax / ArgMin: the index (int64) of the largest / smallest element along `axis`
// (default 0), keepdims (default 1), select_last_index (default 0: the first of equal
// extremes; 1: the last). NaN counts as the extreme (as numpy's argmax/argmin: the first NaN,
// or the last with select_last_index). Float only; an empty axis is an error.
namespace arg_common {

// kInts: the op also takes int32 and int64 (ReduceSum, ReduceMax, ReduceMin, ReduceProd).
template <bool kInts = false>
Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  if (kInts) {
    DOPT_RETURN_IF_ERROR(
        CheckInputDType(ctx, 0, {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kInt32, DType::kInt64}));
  } else {
    DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  }
  const ValueInfo& x = ctx.input(0);
  DOPT_ASSIGN_OR_RETURN(int64_t keep, node.GetInt("keepdims", 1));
  DOPT_ASSIGN_OR_RETURN(int64_t axis, node.GetInt("axis", 0));
  DOPT_RETURN_IF_ERROR(node.GetInt("select_last_index", 0).status());
  if (!x.rank_known) {
    ctx.SetOutputUnknownRank(0, DType::kInt64);
    return Status::Ok();
  }
  DOPT_ASSIGN_OR_RETURN(int a, NormalizeAxis(node, axis, (int)x.shape.size()));
  if (x.shape[a] == 0) return InvalidArgument(node.Describe() + ": axis " + std::to_string(axis) + " is empty");
  Shape out;
  for (int d = 0; d < (int)x.shape.size(); ++d) {
    if (d != a) out.push_back(x.shape[d]);
    else if (keep) out.push_back(1);
  }
  ctx.SetOutput(0, DType::kInt64, out);
  return Status::Ok();
}

template <bool kMax>
Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::kFloat32) {
    return InvalidArgument(node.Describe() + ": expected float input, got " + DTypeName(x.dtype()));
  }
  DOPT_ASSIGN_OR_RETURN(int64_t keep, node.GetInt("keepdims", 1));
  DOPT_ASSIGN_OR_RETURN(int64_t axis, node.GetInt("axis", 0));
  DOPT_ASSIGN_OR_RETURN(int64_t last, node.GetInt("select_last_index", 0));
  const int rank = x.rank();
  DOPT_ASSIGN_OR_RETURN(int a, NormalizeAxis(node, axis, rank));
  const int64_t n = x.dim(a);
  if (n == 0) return InvalidArgument(node.Describe() + ": axis " + std::to_string(axis) + " is empty");
  int64_t outer = 1, inner = 1;
  Shape out;
  for (int d = 0; d < rank; ++d) {
    if (d < a) outer *= x.dim(d);
    if (d > a) inner *= x.dim(d);
    if (d != a) out.push_back(x.dim(d));
    else if (keep) out.push_back(1);
  }
  Tensor& y = ctx.OutputUninitialized(0, DType::kInt64, out);
  const float* xp = x.data<float>();
  int64_t* yp = y.data<int64_t>();
  auto body = [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      const float* p = xp + (o / inner) * n * inner + o % inner;
      int64_t best = 0;
      float bv = p[0];
      for (int64_t i = 1; i < n; ++i) {
        const float v = p[i * inner];
        bool take;
        if (std::isnan(bv)) take = last && std::isnan(v);
        else if (std::isnan(v)) take = true;
        else take = (kMax ? v > bv : v < bv) || (last && v == bv);
        if (take) {
          best = i;
          bv = v;
        }
      }
      yp[o] = best;
    }
  };
  const int64_t n_out = outer * inner;
  if (ctx.pool()) ctx.pool()->ParallelFor(n_out, std::max<int64_t>(1, (1 << 14) / n), body);
  else body(0, n_out);
  return Status::Ok();
}

}  // namespace arg_common
}  // namespace dopt
