// Element types of IR tensors. The numbering is dopt's own; frontends map their enums onto it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace dopt {

enum class DType : uint8_t {
  kUndefined = 0,
  kFloat32,
  kFloat16,
  kBFloat16,
  kInt8,
  kUInt8,
  kInt16,
  kInt32,
  kInt64,
  kBool,
  kString,  // only so frontends can name it in errors; no kernel takes it
};

size_t DTypeSize(DType t);
const char* DTypeName(DType t);
inline bool IsFloat(DType t) { return t == DType::kFloat32 || t == DType::kFloat16 || t == DType::kBFloat16; }
inline bool IsInteger(DType t) {
  return t == DType::kInt8 || t == DType::kUInt8 || t == DType::kInt16 || t == DType::kInt32 ||
         t == DType::kInt64;
}

// IEEE half and bfloat16 conversions (round to nearest even).
float HalfToFloat(uint16_t h);
uint16_t FloatToHalf(float f);
float BFloat16ToFloat(uint16_t b);
uint16_t FloatToBFloat16(float f);

}  // namespace dopt
