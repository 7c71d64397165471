// Det: the determinant of each square matrix of X [..., M, M] (float), by LU decomposition with
// partial pivoting in double; Y has shape [...]. An empty matrix (M = 0) has determinant 1.
#include <cmath>
#include <utility>
#include <vector>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  const ValueInfo& x = ctx.input(0);
  if (!x.rank_known) {
    ctx.SetOutputUnknownRank(0, x.dtype);
    return Status::Ok();
  }
  const size_t r = x.shape.size();
  if (r < 2) return InvalidArgument(ctx.node().Describe() + ": X must have rank >= 2, got " + ShapeToString(x.shape));
  if (x.shape[r - 1] >= 0 && x.shape[r - 2] >= 0 && x.shape[r - 1] != x.shape[r - 2]) {
    return InvalidArgument(ctx.node().Describe() + ": X must hold square matrices, got " + ShapeToString(x.shape));
  }
  ctx.SetOutput(0, x.dtype, Shape(x.shape.begin(), x.shape.end() - 2));
  return Status::Ok();
}

double Determinant(const float* a, int64_t m, std::vector<double>& lu) {
  lu.assign(a, a + m * m);
  double det = 1.0;
  for (int64_t c = 0; c < m; ++c) {
    int64_t piv = c;
    for (int64_t r = c + 1; r < m; ++r)
      if (std::fabs(lu[r * m + c]) > std::fabs(lu[piv * m + c])) piv = r;
    if (lu[piv * m + c] == 0.0) return 0.0;
    if (piv != c) {
      for (int64_t k = 0; k < m; ++k) std::swap(lu[c * m + k], lu[piv * m + k]);
      det = -det;
    }
    const double d = lu[c * m + c];
    det *= d;
    for (int64_t r = c + 1; r < m; ++r) {
      const double f = lu[r * m + c] / d;
      if (f == 0.0) continue;
      for (int64_t k = c + 1; k < m; ++k) lu[r * m + k] -= f * lu[c * m + k];
    }
  }
  return det;
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Node& node = ctx.node();
  if (x.dtype() != DType::kFloat32) return InvalidArgument(node.Describe() + ": X must be float, got " + DTypeName(x.dtype()));
  const int r = x.rank();
  if (r < 2 || x.dim(r - 1) != x.dim(r - 2)) {
    return InvalidArgument(node.Describe() + ": X must hold square matrices [..., M, M], got " + ShapeToString(x.shape()));
  }
  const int64_t m = x.dim(r - 1);
  Tensor& y = ctx.OutputUninitialized(0, DType::kFloat32, Shape(x.shape().begin(), x.shape().end() - 2));
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  ParallelForOrInline(ctx.pool(), y.numel(), std::max<int64_t>(1, 4096 / std::max<int64_t>(1, m * m * m)),
                      [&](int64_t b, int64_t e) {
                        std::vector<double> lu;
                        for (int64_t i = b; i < e; ++i) yp[i] = (float)Determinant(xp + i * m * m, m, lu);
                      });
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_Det() {
  static const OpDef def{
      .name = "Det",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 11; 22 (types) is past 21"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
