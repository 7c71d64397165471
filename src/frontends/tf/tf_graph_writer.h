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
  enum class Kind { kInt, kFloat, kBool, kString, kInts, kType, kShape, kTensor, kFunc, kTypes };
  Kind kind = Kind::kInt;
  int64_t i = 0;
  float f = 0;
  bool b = false;
  std::string s;
  std::vector<int64_t> ints;  // kInts; kShape: dims (-1 unknown)
  DType type = DType::kFloat32;
  std::vector<DType> types;  // kTypes
  Tensor tensor;

  static TfAttrSpec Int(int64_t v) { TfAttrSpec a; a.kind = Kind::kInt; a.i = v; return a; }
  static TfAttrSpec Float(float v) { TfAttrSpec a; a.kind = Kind::kFloat; a.f = v; return a; }
  static TfAttrSpec Bool(bool v) { TfAttrSpec a; a.kind = Kind::kBool; a.b = v; return a; }
  static TfAttrSpec Str(std::string v) { TfAttrSpec a; a.kind = Kind::kString; a.s = std::move(v); return a; }
  static TfAttrSpec Ints(std::vector<int64_t> v) { TfAttrSpec a; a.kind = Kind::kInts; a.ints = std::move(v); return a; }
  static TfAttrSpec Type(DType t) { TfAttrSpec a; a.kind = Kind::kType; a.type = t; return a; }
  static TfAttrSpec ShapeOf(std::vector<int64_t> dims) { TfAttrSpec a; a.kind = Kind::kShape; a.ints = std::move(dims); return a; }
  static TfAttrSpec TensorOf(Tensor t) { TfAttrSpec a; a.kind = Kind::kTensor; a.tensor = std::move(t); return a; }
  // A function reference (attr `f` of PartitionedCall): s is the function's name.
  static TfAttrSpec Func(std::string name) { TfAttrSpec a; a.kind = Kind::kFunc; a.s = std::move(name); return a; }
  static TfAttrSpec Types(std::vector<DType> t) { TfAttrSpec a; a.kind = Kind::kTypes; a.types = std::move(t); return a; }
};

struct TfNodeSpec {
  std::string name, op;
  std::vector<std::string> inputs;  // "N", "N:1", "^N"
  std::vector<std::pair<std::string, TfAttrSpec>> attrs;
};

// One FunctionDef of the graph's library. Node inputs are in function form: an input arg's
// name, or "node:out_arg:index".
struct TfFunctionSpec {
  std::string name;
  std::vector<std::pair<std::string, DType>> inputs, outputs;  // arg name, type
  std::vector<TfNodeSpec> nodes;
  std::vector<std::pair<std::string, std::string>> ret;  // output arg -> body tensor
};

// Serialized GraphDef holding `nodes` in order (versions.producer = `producer`) and, in its
// library, `functions`.
StatusOr<std::string> WriteGraphDef(const std::vector<TfNodeSpec>& nodes, int producer = 1000,
                                    const std::vector<TfFunctionSpec>& functions = {});

// Convenience: a Const node of `t` (attr dtype + value) and a float Placeholder of `shape`.
TfNodeSpec TfConstNode(const std::string& name, Tensor t);
TfNodeSpec TfPlaceholderNode(const std::string& name, std::vector<int64_t> shape, DType dtype = DType::kFloat32);

}  // namespace dopt
