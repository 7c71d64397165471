// Writes GraphDef bytes from plain C++ node descriptions, so that code outside this folder
// (unit tests, fuzz seeds) and exporters can make TF graphs without protobuf types.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "dopt/status.h"
#include "ir/tensor.h"

namespace dopt {

struct TfAttrSpec {
  enum class Kind { kInt, kFloat, kBool, kString, kInts, kType, kShape, kTensor };
  Kind kind = Kind::kInt;
  int64_t i = 0;
  float f = 0;
  bool b = false;
  std::string s;
  std::vector<int64_t> ints;  // kInts; kShape: dims (-1 unknown)
  DType type = DType::kFloat32;
  Tensor tensor;

  static TfAttrSpec Int(int64_t v) { TfAttrSpec a; a.kind = Kind::kInt; a.i = v; return a; }
  static TfAttrSpec Float(float v) { TfAttrSpec a; a.kind = Kind::kFloat; a.f = v; return a; }
  static TfAttrSpec Bool(bool v) { TfAttrSpec a; a.kind = Kind::kBool; a.b = v; return a; }
  static TfAttrSpec Str(std::string v) { TfAttrSpec a; a.kind = Kind::kString; a.s = std::move(v); return a; }
  static TfAttrSpec Ints(std::vector<int64_t> v) { TfAttrSpec a; a.kind = Kind::kInts; a.ints = std::move(v); return a; }
  static TfAttrSpec Type(DType t) { TfAttrSpec a; a.kind = Kind::kType; a.type = t; return a; }
  static TfAttrSpec ShapeOf(std::vector<int64_t> dims) { TfAttrSpec a; a.kind = Kind::kShape; a.ints = std::move(dims); return a; }
  static TfAttrSpec TensorOf(Tensor t) { TfAttrSpec a; a.kind = Kind::kTensor; a.tensor = std::move(t); return a; }
};

struct TfNodeSpec {
  std::string name, op;
  std::vector<std::string> inputs;  // "N", "N:1", "^N"
  std::vector<std::pair<std::string, TfAttrSpec>> attrs;
};

// Serialized GraphDef holding `nodes` in order (versions.producer = `producer`).
StatusOr<std::string> WriteGraphDef(const std::vector<TfNodeSpec>& nodes, int producer = 1000);

// Convenience: a Const node of `t` (attr dtype + value) and a float Placeholder of `shape`.
TfNodeSpec TfConstNode(const std::string& name, Tensor t);
TfNodeSpec TfPlaceholderNode(const std::string& name, std::vector<int64_t> shape, DType dtype = DType::kFloat32);

}  // namespace dopt
