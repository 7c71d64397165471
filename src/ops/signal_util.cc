#include "ops/signal_util.h"

#include <cmath>
#include <numbers>
#include <type_traits>

#include "common/limits.h"
#include "ops/logic_util.h"
#include "ops/op_util.h"

namespace dopt {

FftPlan::FftPlan(int64_t n, bool inverse) : n_(n) {
  tw_.resize(n);
  const double sign = inverse ? 1.0 : -1.0;
  for (int64_t j = 0; j < n; ++j) {
    const double a = 2.0 * std::numbers::pi * (double)j / (double)n;
    tw_[j] = Complex(std::cos(a), sign * std::sin(a));
  }
  int64_t m = n;
  for (int64_t p = 2; p * p <= m; ++p)
    while (m % p == 0) {
      factors_.push_back(p);
      m /= p;
    }
  if (m > 1) factors_.push_back(m);
}

void FftPlan::Run(const Complex* in, int64_t stride, Complex* out, std::vector<Complex>* scratch) const {
  if ((int64_t)scratch->size() < 2 * n_) scratch->resize(2 * n_);
  Rec(in, stride, out, n_, 1, 0, scratch->data());
}

// DFT of length n of in[0], in[stride], ... into out[0..n); tw_[j * tw_stride] = w_n^j.
// Decimation in time by p = factors_[level]: the p sub-DFTs of length m = n / p (inputs
// r, r + p, ...) go to scratch[r * m ...], then X[k] = sum_r w_n^(r k) F_r[k mod m].
void FftPlan::Rec(const Complex* in, int64_t stride, Complex* out, int64_t n, int64_t tw_stride, size_t level,
                  Complex* scratch) const {
  if (n == 1) {
    out[0] = in[0];
    return;
  }
  const int64_t p = factors_[level], m = n / p;
  if (m == 1) {  // a prime length: the direct sum
    for (int64_t k = 0; k < n; ++k) {
      Complex acc = 0;
      for (int64_t j = 0; j < n; ++j) acc += in[j * stride] * tw_[((j * k) % n) * tw_stride];
      out[k] = acc;
    }
    return;
  }
  for (int64_t r = 0; r < p; ++r) Rec(in + r * stride, stride * p, scratch + r * m, m, tw_stride * p, level + 1, scratch + n);
  for (int64_t k = 0; k < n; ++k) {
    const int64_t km = k % m;
    Complex acc = scratch[km];
    for (int64_t r = 1; r < p; ++r) acc += tw_[((r * k) % n) * tw_stride] * scratch[r * m + km];
    out[k] = acc;
  }
}

StatusOr<int64_t> ScalarInt(const Node& node, const Tensor& t, const char* what) {
  if (t.dtype() != DType::kInt32 && t.dtype() != DType::kInt64)
    return InvalidArgument(node.Describe() + ": " + what + " must be int32 or int64, got " + DTypeName(t.dtype()));
  if (t.numel() != 1) return InvalidArgument(node.Describe() + ": " + what + " must be a scalar, has " + std::to_string(t.numel()) + " elements");
  return t.ToInt64Vector()[0];
}

StatusOr<double> ScalarFloat(const Node& node, const Tensor& t, const char* what) {
  if (!IsFloat(t.dtype())) return InvalidArgument(node.Describe() + ": " + what + " must be a float type, got " + DTypeName(t.dtype()));
  if (t.numel() != 1) return InvalidArgument(node.Describe() + ": " + what + " must be a scalar, has " + std::to_string(t.numel()) + " elements");
  return (double)ToComputeDType(t).data<float>()[0];
}

StatusOr<DType> OutputDatatype(const Node& node) {
  DOPT_ASSIGN_OR_RETURN(int64_t t, node.GetInt("output_datatype", 1));
  DOPT_ASSIGN_OR_RETURN(DType d, DTypeFromOnnx(node, t));
  if (d == DType::kBool) return InvalidArgument(node.Describe() + ": output_datatype bool is not allowed");
  return d;
}

Status CheckLength(const Node& node, int64_t v, int64_t limit, const char* what) {
  if (v < 0) return InvalidArgument(node.Describe() + ": " + what + " = " + std::to_string(v) + " is negative");
  if (v > limit)
    return InvalidArgument(node.Describe() + ": " + what + " = " + std::to_string(v) + " is larger than the limit " + std::to_string(limit));
  return Status::Ok();
}

namespace {

StatusOr<int64_t> WindowSize(const Node& node, const Tensor& size) {
  DOPT_ASSIGN_OR_RETURN(int64_t n, ScalarInt(node, size, "size"));
  DOPT_RETURN_IF_ERROR(CheckLength(node, n, kMaxTensorElements, "size"));
  return n;
}

StatusOr<bool> Periodic(const Node& node) {
  DOPT_ASSIGN_OR_RETURN(int64_t p, node.GetInt("periodic", 1));
  if (p != 0 && p != 1) return InvalidArgument(node.Describe() + ": periodic must be 0 or 1, got " + std::to_string(p));
  return p == 1;
}

}  // namespace

Status InferWindow(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kInt32, DType::kInt64}));
  DOPT_ASSIGN_OR_RETURN(DType t, OutputDatatype(ctx.node()));
  DOPT_RETURN_IF_ERROR(Periodic(ctx.node()).status());
  const ValueInfo& size = ctx.input(0);
  if (size.rank_known && NumElements(size.shape) != 1 && size.ShapeKnown())
    return InvalidArgument(ctx.node().Describe() + ": size must be a scalar, got shape " + ShapeToString(size.shape));
  int64_t n = -1;
  if (size.value) {
    DOPT_ASSIGN_OR_RETURN(n, WindowSize(ctx.node(), *size.value));
  }
  ctx.SetOutput(0, t, {n});
  return Status::Ok();
}

Status RunWindow(KernelContext& ctx, WindowCoefficient coefficient) {
  const Node& node = ctx.node();
  DOPT_ASSIGN_OR_RETURN(int64_t n, WindowSize(node, ctx.input(0)));
  DOPT_ASSIGN_OR_RETURN(DType t, OutputDatatype(node));
  DOPT_ASSIGN_OR_RETURN(bool periodic, Periodic(node));
  Tensor& y = ctx.OutputUninitialized(0, ComputeDType(t), {n});
  const double big_n = periodic ? (double)n : (double)n - 1;
  return VisitNumericDType(y.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    T* yp = y.data<T>();
    ParallelForOrInline(ctx.pool(), n, 1 << 14, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const double v = coefficient((double)i, big_n);
        if constexpr (std::is_integral_v<T>) yp[i] = std::isfinite(v) ? (T)v : T(0);  // NaN: size 1, symmetric
        else yp[i] = (T)v;
      }
    });
    return Status::Ok();
  });
}

}  // namespace dopt
