#include "ops/integer_conv_matmul.h"

#include <algorithm>

#include "kernels/clones.h"
#include "kernels/conv.h"
#include "ops/window_attrs.h"

namespace dopt {
namespace {

bool IsInt8Type(DType t) { return t == DType::kInt8 || t == DType::kUInt8; }

// C[i, j] = sum_k A[i, k] * Bt[j, k]: both operands with K contiguous (the zero points already
// subtracted, so every value is in [-255, 255]), int32 accumulation. Blocks of 2 x 2 outputs
// share their loads; the inner loops are dot products the compiler turns into pmaddwd.
DOPT_KERNEL_CLONES void DotGemmS16(int64_t M, int64_t N, int64_t K, const int16_t* __restrict A, int64_t lda,
                                   const int16_t* __restrict Bt, int64_t ldb, int32_t* __restrict C, int64_t ldc) {
  int64_t i = 0;
  for (; i + 2 <= M; i += 2) {
    const int16_t* a0 = A + i * lda;
    const int16_t* a1 = a0 + lda;
    int64_t j = 0;
    for (; j + 2 <= N; j += 2) {
      const int16_t* b0 = Bt + j * ldb;
      const int16_t* b1 = b0 + ldb;
      int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0;
      for (int64_t k = 0; k < K; ++k) {
        s00 += (int32_t)a0[k] * b0[k];
        s01 += (int32_t)a0[k] * b1[k];
        s10 += (int32_t)a1[k] * b0[k];
        s11 += (int32_t)a1[k] * b1[k];
      }
      C[i * ldc + j] = s00;
      C[i * ldc + j + 1] = s01;
      C[(i + 1) * ldc + j] = s10;
      C[(i + 1) * ldc + j + 1] = s11;
    }
    for (; j < N; ++j) {
      const int16_t* b0 = Bt + j * ldb;
      int32_t s0 = 0, s1 = 0;
      for (int64_t k = 0; k < K; ++k) {
        s0 += (int32_t)a0[k] * b0[k];
        s1 += (int32_t)a1[k] * b0[k];
      }
      C[i * ldc + j] = s0;
      C[(i + 1) * ldc + j] = s1;
    }
  }
  for (; i < M; ++i) {
    const int16_t* a0 = A + i * lda;
    for (int64_t j = 0; j < N; ++j) {
      const int16_t* b0 = Bt + j * ldb;
      int32_t s = 0;
      for (int64_t k = 0; k < K; ++k) s += (int32_t)a0[k] * b0[k];
      C[i * ldc + j] = s;
    }
  }
}

// Calls f(T{}) with the C++ type of an int8 / uint8 tensor.
template <typename F>
void VisitInt8(DType t, F&& f) {
  if (t == DType::kInt8) f(int8_t{});
  else f(uint8_t{});
}

// x - zp as int16, zp broadcast to x's shape (numpy rules on `zp_shape`, which must not grow x).
StatusOr<std::vector<int16_t>> Centered(const Node& node, const Tensor& x, const Tensor* zp, const Shape& zp_shape,
                                        const char* what, ThreadPool* pool) {
  std::vector<int16_t> out((size_t)x.numel());
  if (!zp || zp->numel() == 1) {
    int32_t z = 0;
    if (zp) VisitInt8(zp->dtype(), [&](auto tag) { z = (int32_t)zp->data<decltype(tag)>()[0]; });
    VisitInt8(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* xp = x.data<T>();
      for (int64_t i = 0; i < x.numel(); ++i) out[i] = (int16_t)((int32_t)xp[i] - z);
    });
    return out;
  }
  DOPT_ASSIGN_OR_RETURN(BroadcastPlan plan, PlanBroadcast(node, x.shape(), zp_shape));
  if (plan.out_shape != x.shape()) {
    return InvalidArgument(node.Describe() + ": " + what + "_zero_point of shape " + ShapeToString(zp->shape()) +
                           " does not fit " + what + " of shape " + ShapeToString(x.shape()));
  }
  VisitInt8(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    RunBroadcast<T, int16_t>(plan, x.data<T>(), zp->data<T>(), out.data(), pool,
                             [](T a, T z) { return (int16_t)((int32_t)a - (int32_t)z); });
  });
  return out;
}

}  // namespace

Status CheckIntegerOperand(const InferContext& ctx, int x, int zp, const char* what) {
  const Node& node = ctx.node();
  const DType xt = ctx.input(x).dtype;
  if (xt != DType::kUndefined && !IsInt8Type(xt)) {
    return InvalidArgument(node.Describe() + ": " + what + " must be int8 or uint8, got " + DTypeName(xt));
  }
  if (zp >= 0 && ctx.has_input(zp)) {
    const DType zt = ctx.input(zp).dtype;
    if (zt != DType::kUndefined && xt != DType::kUndefined && zt != xt) {
      return InvalidArgument(node.Describe() + ": " + what + "_zero_point has type " + DTypeName(zt) + " but " +
                             what + " has type " + DTypeName(xt));
    }
  }
  return Status::Ok();
}

Status CheckIntegerOperand(const Node& node, const Tensor& x, const Tensor* zp, const char* what) {
  if (!IsInt8Type(x.dtype())) {
    return InvalidArgument(node.Describe() + ": " + what + " must be int8 or uint8, got " + DTypeName(x.dtype()));
  }
  if (zp && zp->dtype() != x.dtype()) {
    return InvalidArgument(node.Describe() + ": " + what + "_zero_point has type " + DTypeName(zp->dtype()) + " but " +
                           what + " has type " + DTypeName(x.dtype()));
  }
  return Status::Ok();
}

StatusOr<std::vector<float>> ScaleValues(const Node& node, const Tensor& t, int64_t n, const char* what) {
  if (t.dtype() != DType::kFloat32) {
    return InvalidArgument(node.Describe() + ": " + what + " must be float, got " + DTypeName(t.dtype()));
  }
  if (t.numel() == 1) return std::vector<float>((size_t)n, t.data<float>()[0]);
  if (t.rank() != 1 || t.numel() != n) {
    return InvalidArgument(node.Describe() + ": " + what + " must hold one value or " + std::to_string(n) +
                           " (1-D), got shape " + ShapeToString(t.shape()));
  }
  return std::vector<float>(t.data<float>(), t.data<float>() + n);
}

StatusOr<std::vector<int32_t>> ZeroPointValues(const Node& node, const Tensor* t, int64_t n, const char* what) {
  std::vector<int32_t> v((size_t)n, 0);
  if (!t) return v;
  if (!IsInt8Type(t->dtype())) {
    return InvalidArgument(node.Describe() + ": " + what + " must be int8 or uint8, got " + DTypeName(t->dtype()));
  }
  if (t->numel() != 1 && (t->rank() != 1 || t->numel() != n)) {
    return InvalidArgument(node.Describe() + ": " + what + " must hold one value or " + std::to_string(n) +
                           " (1-D), got shape " + ShapeToString(t->shape()));
  }
  VisitInt8(t->dtype(), [&](auto tag) {
    const auto* p = t->data<decltype(tag)>();
    for (int64_t i = 0; i < n; ++i) v[i] = (int32_t)p[t->numel() == 1 ? 0 : i];
  });
  return v;
}

StatusOr<Tensor> IntegerConv(const Node& node, const Tensor& x, const Tensor* x_zp, const Tensor& w,
                             const Tensor* w_zp, ThreadPool* pool) {
  const std::string who = node.Describe() + ": ";
  DOPT_RETURN_IF_ERROR(CheckIntegerOperand(node, x, x_zp, "x"));
  DOPT_RETURN_IF_ERROR(CheckIntegerOperand(node, w, w_zp, "w"));
  if (x_zp && x_zp->numel() != 1) {
    return InvalidArgument(who + "x_zero_point must hold one value, got shape " + ShapeToString(x_zp->shape()));
  }
  DOPT_ASSIGN_OR_RETURN(ConvPlan p, PlanConv(node, x.shape(), w.shape(), true));
  const int64_t M = w.dim(0);
  DOPT_ASSIGN_OR_RETURN(std::vector<int32_t> wz, ZeroPointValues(node, w_zp, M, "w_zero_point"));
  int32_t xz = 0;
  if (x_zp) VisitInt8(x_zp->dtype(), [&](auto tag) { xz = (int32_t)x_zp->data<decltype(tag)>()[0]; });

  Tensor y = Tensor::Uninitialized(DType::kInt32, p.out_shape);
  if (y.numel() == 0) return y;
  kernels::ConvGeom g;
  g.N = x.dim(0);
  g.C = x.dim(1);
  g.M = M;
  g.G = p.group;
  const int ns = x.rank() - 2;
  std::vector<int64_t> in(x.shape().begin() + 2, x.shape().end()), out(p.out_shape.begin() + 2, p.out_shape.end());
  std::vector<int64_t> pb(p.pads.begin(), p.pads.begin() + ns);
  g.SetSpatial(in, out, p.attrs.kernel, p.attrs.strides, p.attrs.dilations, pb);

  const int64_t Cg = g.C / g.G, Mg = M / g.G, KS = g.KSize(), K = Cg * KS;
  const int64_t P = g.OutSize(), insz = g.InSize();
  // Weights minus their zero points, [M, K].
  std::vector<int16_t> w16((size_t)(M * K));
  VisitInt8(w.dtype(), [&](auto tag) {
    const auto* wp = w.data<decltype(tag)>();
    for (int64_t m = 0; m < M; ++m)
      for (int64_t k = 0; k < K; ++k) w16[m * K + k] = (int16_t)((int32_t)wp[m * K + k] - wz[m]);
  });
  // Tasks: (image, group, block of output positions); each gathers the patches of its block,
  // one row of K values per output position (0 for padding), and multiplies them by the
  // group's weights.
  constexpr int64_t kBlock = 128;
  const int64_t nblocks = (P + kBlock - 1) / kBlock;
  int32_t* yp = y.data<int32_t>();
  VisitInt8(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    ParallelForOrInline(pool, g.N * g.G * nblocks, 1, [&](int64_t t0, int64_t t1) {
      std::vector<int16_t> patches((size_t)(kBlock * K));
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t blk = t % nblocks, ng = t / nblocks, gi = ng % g.G, n = ng / g.G;
        const int64_t p0 = blk * kBlock, p1 = std::min(P, p0 + kBlock);
        const T* xg = xp + (n * g.C + gi * Cg) * insz;
        for (int64_t pi = p0; pi < p1; ++pi) {
          const int64_t ow = pi % g.out[2], oh = (pi / g.out[2]) % g.out[1], od = pi / (g.out[2] * g.out[1]);
          int16_t* dst = patches.data() + (pi - p0) * K;
          for (int64_t c = 0; c < Cg; ++c) {
            const T* xc = xg + c * insz;
            for (int64_t kd = 0; kd < g.k[0]; ++kd) {
              const int64_t id = od * g.s[0] - g.pb[0] + kd * g.d[0];
              const bool din = id >= 0 && id < g.in[0];
              for (int64_t kh = 0; kh < g.k[1]; ++kh) {
                const int64_t ih = oh * g.s[1] - g.pb[1] + kh * g.d[1];
                const bool hin = din && ih >= 0 && ih < g.in[1];
                const T* row = hin ? xc + (id * g.in[1] + ih) * g.in[2] : nullptr;
                for (int64_t kw = 0; kw < g.k[2]; ++kw) {
                  const int64_t iw = ow * g.s[2] - g.pb[2] + kw * g.d[2];
                  *dst++ = hin && iw >= 0 && iw < g.in[2] ? (int16_t)((int32_t)row[iw] - xz) : (int16_t)0;
                }
              }
            }
          }
        }
        DotGemmS16(Mg, p1 - p0, K, w16.data() + gi * Mg * K, K, patches.data(), K,
                   yp + (n * M + gi * Mg) * P + p0, P);
      }
    });
  });
  return y;
}

StatusOr<Tensor> IntegerMatMul(const Node& node, const Tensor& a, const Tensor* a_zp, const Tensor& b,
                               const Tensor* b_zp, ThreadPool* pool) {
  DOPT_RETURN_IF_ERROR(CheckIntegerOperand(node, a, a_zp, "a"));
  DOPT_RETURN_IF_ERROR(CheckIntegerOperand(node, b, b_zp, "b"));
  DOPT_ASSIGN_OR_RETURN(MatMulShapes s, PlanMatMulShapes(node, a.shape(), b.shape()));
  const int64_t M = s.M, N = s.N, K = s.K;
  // A 1-D zero point of a (more than one value) is per row: [M, 1]; b's is per column as is.
  Shape a_zp_shape, b_zp_shape;
  if (a_zp) {
    a_zp_shape = a_zp->shape();
    if (a_zp->rank() == 1 && a_zp->numel() > 1) {
      if (a.rank() < 2 || a_zp->numel() != M) {
        return InvalidArgument(node.Describe() + ": a_zero_point of shape " + ShapeToString(a_zp->shape()) +
                               " is neither one value nor one per row of a " + ShapeToString(a.shape()));
      }
      a_zp_shape = {M, 1};
    }
  }
  if (b_zp) {
    b_zp_shape = b_zp->shape();
    if (b_zp->rank() == 1 && b_zp->numel() > 1 && (b.rank() < 2 || b_zp->numel() != N)) {
      return InvalidArgument(node.Describe() + ": b_zero_point of shape " + ShapeToString(b_zp->shape()) +
                             " is neither one value nor one per column of b " + ShapeToString(b.shape()));
    }
  }
  DOPT_ASSIGN_OR_RETURN(std::vector<int16_t> a16, Centered(node, a, a_zp, a_zp_shape, "a", pool));
  DOPT_ASSIGN_OR_RETURN(std::vector<int16_t> b16, Centered(node, b, b_zp, b_zp_shape, "b", pool));
  Tensor y = Tensor::Uninitialized(DType::kInt32, s.out);
  if (y.numel() == 0) return y;
  if (K == 0) {
    std::fill(y.data<int32_t>(), y.data<int32_t>() + y.numel(), 0);
    return y;
  }
  // b's matrices transposed to [N, K] so that each output is a dot product of two rows.
  const int64_t nbm = K * N == 0 ? 0 : b.numel() / (K * N);
  std::vector<int16_t> bt(b16.size());
  for (int64_t m = 0; m < nbm; ++m) {
    const int16_t* src = b16.data() + m * K * N;
    int16_t* dst = bt.data() + m * K * N;
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < N; ++j) dst[j * K + k] = src[k * N + j];
  }
  // Batch offsets through broadcasting (strides in whole matrices).
  Shape ab(a.shape().begin(), a.shape().end() - std::min<int>(2, a.rank()));
  Shape bb(b.shape().begin(), b.shape().end() - std::min<int>(2, b.rank()));
  DOPT_ASSIGN_OR_RETURN(BroadcastPlan plan, PlanBroadcast(node, ab, bb));
  const int64_t nb = NumElements(s.batch);
  const int rank = (int)s.batch.size();
  // Tasks: (batch, block of rows).
  constexpr int64_t kRows = 16;
  const int64_t rblocks = (M + kRows - 1) / kRows;
  int32_t* yp = y.data<int32_t>();
  ParallelForOrInline(pool, nb * rblocks, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t bi = t / rblocks, r0 = (t % rblocks) * kRows, r1 = std::min(M, r0 + kRows);
      int64_t ao = 0, bo = 0, rem = bi;
      for (int d = rank - 1; d >= 0; --d) {
        const int64_t idx = rem % s.batch[d];
        rem /= s.batch[d];
        ao += idx * plan.a_strides[d];
        bo += idx * plan.b_strides[d];
      }
      DotGemmS16(r1 - r0, N, K, a16.data() + ao * M * K + r0 * K, K, bt.data() + bo * K * N, K,
                 yp + bi * M * N + r0 * N, N);
    }
  });
  return y;
}

}  // namespace dopt
