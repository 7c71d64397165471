// Casting a tensor to another element type only when every value survives: integer data for
// an input of another integer or float type, float .bin data for an integer model input.
#pragma once

#include "dopt/status.h"
#include "ir/tensor.h"

namespace dopt {

// t cast to `to`, or an error "value V (element I) cannot be held exactly in <to>" naming the
// first value that does not come back unchanged (out of range, a fraction, NaN, 2 for bool).
// `bad_index`, when given, receives that element's index (-1 on success).
StatusOr<Tensor> CastExactly(const Tensor& t, DType to, int64_t* bad_index = nullptr);

}  // namespace dopt
