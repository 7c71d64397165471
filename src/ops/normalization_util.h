// What the normalization ops (LayerNormalization, InstanceNormalization, GroupNormalization,
// MeanVarianceNormalization) share: the statistics of one normalized group, computed in double
// in an order that does not depend on the thread count, and their float type checks.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "kernels/moments.h"
#include "ops/op_util.h"

namespace dopt {

#define DOPT_NORM_FLOAT_TYPES {DType::kFloat32, DType::kFloat16, DType::kBFloat16}

// Mean and (population) variance of x[0..n): kernels/moments.h (double accumulators in a fixed
// order, two passes). n == 0 gives mean 0, variance 0.
using GroupStats = kernels::Moments;
inline GroupStats ComputeGroupStats(const float* x, int64_t n) { return kernels::ComputeMoments(x, n); }

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
