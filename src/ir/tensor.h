// A dense, row-major tensor: dtype, shape and a shared, 64-byte aligned buffer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dopt/status.h"
#include "ir/dtype.h"

namespace dopt {

using Shape = std::vector<int64_t>;

// Number of elements of a fully known shape, or an error when a dim is negative or the
// product overflows int64 / exceeds `limit` elements.
StatusOr<int64_t> CheckedNumElements(const Shape& shape, int64_t limit = (int64_t{1} << 40));
int64_t NumElements(const Shape& shape);  // for validated shapes (saturates at INT64_MAX on overflow)
std::string ShapeToString(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;
  // Allocates zero-initialised storage for `shape` (must be valid and known).
  Tensor(DType dtype, Shape shape);

  // Storage left uninitialised, for kernels that write every element. With the environment
  // variable DOPT_POISON_UNINIT=1 it is filled with 0xFF bytes (NaN floats) instead, so tests
  // catch a kernel that reads or leaves an element it did not write.
  static Tensor Uninitialized(DType dtype, Shape shape);
  static Tensor Scalar(float v);
  static Tensor FromFloats(const Shape& shape, const std::vector<float>& values);
  static Tensor FromInt64s(const Shape& shape, const std::vector<int64_t>& values);

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return (int)shape_.size(); }
  int64_t dim(int i) const { return shape_[i]; }
  int64_t numel() const { return numel_; }
  size_t nbytes() const { return (size_t)numel_ * DTypeSize(dtype_); }
  bool empty() const { return dtype_ == DType::kUndefined; }

  void* raw() { return data_.get(); }
  const void* raw() const { return data_.get(); }
  template <typename T> T* data() { return static_cast<T*>(raw()); }
  template <typename T> const T* data() const { return static_cast<const T*>(raw()); }

  // Same buffer, new shape with the same element count.
  Tensor Reshaped(Shape shape) const;
  // Deep copy.
  Tensor Clone() const;
  // Converted copy (float <-> float16/bfloat16/int types, with C-style truncation for ints).
  Tensor CastTo(DType to) const;
  // Values as int64 / double regardless of dtype (for shape tensors and small constants).
  std::vector<int64_t> ToInt64Vector() const;
  std::vector<double> ToDoubleVector() const;
  // Shares the same storage (true for tensors produced by Reshaped()).
  bool SharesStorageWith(const Tensor& o) const { return data_ == o.data_; }

 private:
  Tensor(DType dtype, Shape shape, bool zero);

  DType dtype_ = DType::kUndefined;
  Shape shape_;
  int64_t numel_ = 0;
  std::shared_ptr<uint8_t> data_;
};

// Kernels compute float16/bfloat16 tensors in float32: these are storage types only.
// Graph inputs, outputs and initializers keep their declared dtype; the executor converts.
inline DType ComputeDType(DType t) {
  return (t == DType::kFloat16 || t == DType::kBFloat16) ? DType::kFloat32 : t;
}
// The tensor itself when already in its compute dtype, else a float32 copy.
inline Tensor ToComputeDType(const Tensor& t) {
  return ComputeDType(t.dtype()) == t.dtype() ? t : t.CastTo(ComputeDType(t.dtype()));
}

}  // namespace dopt
