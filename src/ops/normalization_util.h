// What the normalization ops (LayerNormalization, InstanceNormalization, GroupNormalization,
// MeanVarianceNormalization) share: the statistics of one normalized group, computed serially
// in double so that results do not depend on the thread count, and their float type checks.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "ops/op_util.h"

namespace dopt {

#define DOPT_NORM_FLOAT_TYPES {DType::kFloat32, DType::kFloat16, DType::kBFloat16}

// Mean and (population) variance of x[0], x[stride], ..., x[(n-1)*stride]: two passes,
// double accumulators. n == 0 gives mean 0, variance 0.
struct GroupStats {
  double mean = 0;
  double var = 0;
};
inline GroupStats ComputeGroupStats(const float* x, int64_t n, int64_t stride = 1) {
  GroupStats s;
  if (n <= 0) return s;
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += x[i * stride];
  s.mean = sum / (double)n;
  double sq = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = x[i * stride] - s.mean;
    sq += d * d;
  }
  s.var = sq / (double)n;
  return s;
}

// Fails unless every present input of the node is float32 (float16/bfloat16 arrive as float32).
inline Status CheckFloatInputs(const KernelContext& ctx) {
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    if (ctx.has_input(i) && ctx.input(i).dtype() != DType::kFloat32) {
      return InvalidArgument(ctx.node().Describe() + ": expected float inputs, input " + std::to_string(i) + " is " +
                             DTypeName(ctx.input(i).dtype()));
    }
  }
  return Status::Ok();
}

}  // namespace dopt
