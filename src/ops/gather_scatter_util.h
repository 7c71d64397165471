// Shared pieces of GatherElements / ScatterElements / GatherND / ScatterND: index checks and
// the `reduction` attribute of the scatters.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "ops/logic_util.h"

namespace dopt {

// Reads int32/int64 `indices` and maps negative ones into [0, n); error when out of range.
// `dim_of(i)` gives the size index i counts into.
template <typename DimOf>
StatusOr<std::vector<int64_t>> NormalizedIndices(const Node& node, const Tensor& indices, DimOf dim_of) {
  if (indices.dtype() != DType::kInt32 && indices.dtype() != DType::kInt64)
    return InvalidArgument(node.Describe() + ": indices must be int32 or int64");
  std::vector<int64_t> v = indices.ToInt64Vector();
  for (size_t i = 0; i < v.size(); ++i) {
    const int64_t n = dim_of(i);
    if (v[i] < -n || v[i] >= n)
      return InvalidArgument(node.Describe() + ": index " + std::to_string(v[i]) + " is out of range [" +
                             std::to_string(-n) + ", " + std::to_string(n) + ")");
    if (v[i] < 0) v[i] += n;
  }
  return v;
}

enum class ScatterReduction { kNone, kAdd, kMul, kMax, kMin };

inline StatusOr<ScatterReduction> GetScatterReduction(const Node& node) {
  DOPT_ASSIGN_OR_RETURN(std::string r, node.GetString("reduction", "none"));
  if (r == "none") return ScatterReduction::kNone;
  if (r == "add") return ScatterReduction::kAdd;
  if (r == "mul") return ScatterReduction::kMul;
  if (r == "max") return ScatterReduction::kMax;
  if (r == "min") return ScatterReduction::kMin;
  return InvalidArgument(node.Describe() + ": unknown reduction '" + r + "'");
}

template <typename T>
T ApplyScatterReduction(ScatterReduction r, T old, T upd) {
  switch (r) {
    case ScatterReduction::kAdd: return (T)(old + upd);
    case ScatterReduction::kMul: return (T)(old * upd);
    case ScatterReduction::kMax: return std::max(old, upd);
    case ScatterReduction::kMin: return std::min(old, upd);
    default: return upd;
  }
}

// Maps a bool tensor's bytes to 0/1 (after an add or mul reduction on bools stored as uint8).
inline void NormalizeBools(Tensor* t) {
  uint8_t* p = t->data<uint8_t>();
  for (int64_t i = 0; i < t->numel(); ++i) p[i] = p[i] != 0;
}

// Row-major element strides of `s`.
inline std::vector<int64_t> RowMajorStrides(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (int d = (int)s.size() - 2; d >= 0; --d) st[d] = st[d + 1] * s[d + 1];
  return st;
}

}  // namespace dopt
