// The conversion Cast and CastLike share: input 0 of `ctx` to `to`. Same dtype: the input's
// buffer; float16/bfloat16 targets: float32 values rounded through that type (kernels never
// hold 16-bit float data); float -> int truncates toward zero through int64 (NaN gives 0,
// values beyond the int64 range clamp first, then wrap to the target width); -> bool is x != 0.
#pragma once

#include "ops/op.h"

namespace dopt {

Status RunCast(KernelContext& ctx, DType to);

}  // namespace dopt
