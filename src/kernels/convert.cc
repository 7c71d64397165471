#include "kernels/convert.h"

#include <cstring>

#include "kernels/clones.h"

namespace dopt {
namespace kernels {

DOPT_KERNEL_CLONES void HalfToFloatArray(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t h = src[i];
    const uint32_t sign = (h & 0x8000u) << 16;
    const uint32_t em = h & 0x7fffu;
    // The exponent and mantissa shifted into place make a float 2^-112 times too small; the
    // multiply rescales exactly, normalising subnormals. Inf/NaN keep their payload.
    const uint32_t shifted = em << 13;
    float f;
    std::memcpy(&f, &shifted, 4);
    f *= 5.192296858534828e+33f;  // 2^112
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    bits = em >= 0x7c00u ? (shifted | 0x7f800000u) : bits;
    bits |= sign;
    std::memcpy(&dst[i], &bits, 4);
  }
}

}  // namespace kernels
}  // namespace dopt
