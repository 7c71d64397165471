#include "ir/tensor.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "common/limits.h"

namespace dopt {

StatusOr<int64_t> CheckedNumElements(const Shape& shape, int64_t limit) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return InvalidArgument("shape " + ShapeToString(shape) + " has an unknown or negative dim");
    if (d != 0 && n > limit / d) {
      return InvalidArgument("shape " + ShapeToString(shape) + " has more than " + std::to_string(limit) +
                             " elements");
    }
    n *= d;
  }
  return n;
}

int64_t NumElements(const Shape& shape) {
  // Saturates instead of overflowing: a hostile declared shape must not be undefined behaviour
  // wherever it is compared against a limit.
  int64_t n = 1;
  for (int64_t d : shape) {
    int64_t m;
    if (__builtin_mul_overflow(n, d, &m)) return (n < 0) != (d < 0) ? INT64_MIN : INT64_MAX;
    n = m;
  }
  return n;
}

std::string ShapeToString(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += shape[i] < 0 ? std::string("?") : std::to_string(shape[i]);
  }
  return s + "]";
}

namespace {
bool PoisonUninitialized() {
  static const bool poison = [] {
    const char* e = std::getenv("DOPT_POISON_UNINIT");
    return e && e[0] == '1';
  }();
  return poison;
}

std::shared_ptr<uint8_t> Allocate(size_t bytes, bool zero) {
  size_t padded = ((bytes + 63) / 64) * 64;
  if (padded == 0) padded = 64;
  void* p = std::aligned_alloc(64, padded);
  if (!p) throw std::bad_alloc();
  if (zero) std::memset(p, 0, padded);
  else if (PoisonUninitialized()) std::memset(p, 0xff, padded);
  return std::shared_ptr<uint8_t>(static_cast<uint8_t*>(p), [](uint8_t* q) { std::free(q); });
}
}  // namespace

Tensor::Tensor(DType dtype, Shape shape) : Tensor(dtype, std::move(shape), true) {}

Tensor::Tensor(DType dtype, Shape shape, bool zero) : dtype_(dtype), shape_(std::move(shape)) {
  numel_ = NumElements(shape_);
  // Callers validate shapes (CheckedNumElements) before allocating; this is the last line.
  if (numel_ < 0 || numel_ > kMaxTensorElements) throw std::bad_alloc();
  data_ = Allocate(nbytes(), zero);
}

Tensor Tensor::Uninitialized(DType dtype, Shape shape) { return Tensor(dtype, std::move(shape), false); }

Tensor Tensor::Scalar(float v) {
  Tensor t(DType::kFloat32, {});
  *t.data<float>() = v;
  return t;
}

Tensor Tensor::FromFloats(const Shape& shape, const std::vector<float>& values) {
  Tensor t(DType::kFloat32, shape);
  if (size_t n = std::min(values.size(), (size_t)t.numel())) std::memcpy(t.raw(), values.data(), n * 4);
  return t;
}

Tensor Tensor::FromInt64s(const Shape& shape, const std::vector<int64_t>& values) {
  Tensor t(DType::kInt64, shape);
  if (size_t n = std::min(values.size(), (size_t)t.numel())) std::memcpy(t.raw(), values.data(), n * 8);
  return t;
}

Tensor Tensor::Reshaped(Shape shape) const {
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::Clone() const {
  Tensor t(dtype_, shape_);
  if (nbytes()) std::memcpy(t.raw(), raw(), nbytes());
  return t;
}

namespace {
template <typename T>
double Load(const void* p, int64_t i) {
  return (double)static_cast<const T*>(p)[i];
}
// Truncation toward zero without undefined behaviour: NaN -> 0, out of range -> clamped.
int64_t SafeToInt64(double v) {
  if (std::isnan(v)) return 0;
  if (v >= 9.2233720368547758e18) return INT64_MAX;
  if (v <= -9.2233720368547758e18) return INT64_MIN;
  return (int64_t)v;
}

double LoadAny(DType t, const void* p, int64_t i) {
  switch (t) {
    case DType::kFloat32: return Load<float>(p, i);
    case DType::kFloat16: return HalfToFloat(static_cast<const uint16_t*>(p)[i]);
    case DType::kBFloat16: return BFloat16ToFloat(static_cast<const uint16_t*>(p)[i]);
    case DType::kInt8: return Load<int8_t>(p, i);
    case DType::kUInt8: return Load<uint8_t>(p, i);
    case DType::kInt16: return Load<int16_t>(p, i);
    case DType::kInt32: return Load<int32_t>(p, i);
    case DType::kInt64: return Load<int64_t>(p, i);
    case DType::kBool: return Load<uint8_t>(p, i) ? 1.0 : 0.0;
    default: return 0;
  }
}
}  // namespace

Tensor Tensor::CastTo(DType to) const {
  if (to == dtype_) return Clone();
  Tensor out(to, shape_);
  const void* src = raw();
  // Fast paths where exactness matters: int64 <-> int64-like without going through double.
  if (dtype_ == DType::kInt64 && IsInteger(to)) {
    const int64_t* s = data<int64_t>();
    for (int64_t i = 0; i < numel_; ++i) {
      switch (to) {
        case DType::kInt8: out.data<int8_t>()[i] = (int8_t)s[i]; break;
        case DType::kUInt8: out.data<uint8_t>()[i] = (uint8_t)s[i]; break;
        case DType::kInt16: out.data<int16_t>()[i] = (int16_t)s[i]; break;
        case DType::kInt32: out.data<int32_t>()[i] = (int32_t)s[i]; break;
        default: break;
      }
    }
    return out;
  }
  for (int64_t i = 0; i < numel_; ++i) {
    double v = LoadAny(dtype_, src, i);
    switch (to) {
      case DType::kFloat32: out.data<float>()[i] = (float)v; break;
      case DType::kFloat16: out.data<uint16_t>()[i] = FloatToHalf((float)v); break;
      case DType::kBFloat16: out.data<uint16_t>()[i] = FloatToBFloat16((float)v); break;
      case DType::kInt8: out.data<int8_t>()[i] = (int8_t)SafeToInt64(v); break;
      case DType::kUInt8: out.data<uint8_t>()[i] = (uint8_t)SafeToInt64(v); break;
      case DType::kInt16: out.data<int16_t>()[i] = (int16_t)SafeToInt64(v); break;
      case DType::kInt32: out.data<int32_t>()[i] = (int32_t)SafeToInt64(v); break;
      case DType::kInt64: out.data<int64_t>()[i] = SafeToInt64(v); break;
      case DType::kBool: out.data<uint8_t>()[i] = v != 0 ? 1 : 0; break;
      default: break;
    }
  }
  return out;
}

std::vector<int64_t> Tensor::ToInt64Vector() const {
  std::vector<int64_t> v((size_t)numel_);
  if (dtype_ == DType::kInt64) {
    if (numel_ > 0) std::memcpy(v.data(), raw(), nbytes());  // v.data() is null when empty
  } else {
    for (int64_t i = 0; i < numel_; ++i) v[i] = SafeToInt64(LoadAny(dtype_, raw(), i));
  }
  return v;
}

std::vector<double> Tensor::ToDoubleVector() const {
  std::vector<double> v((size_t)numel_);
  for (int64_t i = 0; i < numel_; ++i) v[i] = LoadAny(dtype_, raw(), i);
  return v;
}

}  // namespace dopt
