// Bulk float16 -> float32 conversion for the executor's per-run input casts (Tensor::CastTo
// converts element by element through double, ~1 ms for a 224x224 image).
#pragma once

#include <cstdint>

namespace dopt {
namespace kernels {

// Exact IEEE binary16 -> binary32 (subnormals, infinities and NaN payloads included).
void HalfToFloatArray(const uint16_t* src, float* dst, int64_t n);

}  // namespace kernels
}  // namespace dopt
