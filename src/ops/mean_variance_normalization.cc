// MeanVarianceNormalization: y = (x - mean) / (sqrt(var) + 1e-9), mean and (population)
// variance taken over `axes` (default [0, 2, 3]) for each index of the other dims, as the
// op's ONNX function defines it.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/normalization_util.h"

namespace dopt {
namespace {

// The normalized dims (sorted, distinct) of a rank-`rank` x.
StatusOr<std::vector<bool>> GetAxes(const Node& node, int rank) {
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> axes, node.GetInts("axes", {0, 2, 3}));
  std::vector<bool> reduced(rank, false);
  for (int64_t a : axes) {
    DOPT_ASSIGN_OR_RETURN(int d, NormalizeAxis(node, a, rank));
    if (reduced[d]) return InvalidArgument(node.Describe() + ": axis " + std::to_string(a) + " is repeated in axes");
    reduced[d] = true;
  }
  return reduced;
}

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(InferFloatUnary(ctx));
  if (ctx.input(0).rank_known) DOPT_RETURN_IF_ERROR(GetAxes(ctx.node(), (int)ctx.input(0).shape.size()).status());
  return Status::Ok();
}

// Element offsets (row-major) of every index over the dims where `pick` holds (others at 0).
std::vector<int64_t> Offsets(const Shape& shape, const std::vector<bool>& reduced, bool pick) {
  const int rank = (int)shape.size();
  std::vector<int64_t> strides(rank, 1);
  for (int d = rank - 2; d >= 0; --d) strides[d] = strides[d + 1] * shape[d + 1];
  std::vector<int64_t> offs = {0};
  for (int d = 0; d < rank; ++d) {
    if (reduced[d] != pick) continue;
    std::vector<int64_t> next;
    next.reserve(offs.size() * shape[d]);
    for (int64_t o : offs)
      for (int64_t i = 0; i < shape[d]; ++i) next.push_back(o + i * strides[d]);
    offs = std::move(next);
  }
  return offs;
}

Status Run(KernelContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckFloatInputs(ctx));
  const Tensor& x = ctx.input(0);
  DOPT_ASSIGN_OR_RETURN(std::vector<bool> reduced, GetAxes(ctx.node(), x.rank()));
  Tensor& y = ctx.Output(0, DType::kFloat32, x.shape());
  if (x.numel() == 0) return Status::Ok();
  const std::vector<int64_t> group = Offsets(x.shape(), reduced, true);  // within one normalized group
  const std::vector<int64_t> bases = Offsets(x.shape(), reduced, false); // one per group
  const int64_t n = (int64_t)group.size();
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  ParallelForOrInline(ctx.pool(), (int64_t)bases.size(), std::max<int64_t>(1, 4096 / n), [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      const float* xg = xp + bases[k];
      float* yg = yp + bases[k];
      double sum = 0;
      for (int64_t j = 0; j < n; ++j) sum += xg[group[j]];
      const double mean = sum / (double)n;
      double sq = 0;
      for (int64_t j = 0; j < n; ++j) {
        const double d = xg[group[j]] - mean;
        sq += d * d;
      }
      const float m = (float)mean;
      const float den = (float)(std::sqrt(sq / (double)n) + 1e-9);
      for (int64_t j = 0; j < n; ++j) yg[group[j]] = (xg[group[j]] - m) / den;
    }
  });
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_MeanVarianceNormalization() {
  static const OpDef def{
      .name = "MeanVarianceNormalization",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("9: introduced as an op (axes, default [0, 2, 3]); 13: bfloat16"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
