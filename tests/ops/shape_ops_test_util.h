// Small helpers for the data-movement op tests: call an OpDef's Infer/Run directly.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "ops/op.h"

namespace dopt {
namespace shape_ops_test {

inline std::pair<std::string, Attribute> AInt(const std::string& n, int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::kInt;
  a.i = v;
  return {n, a};
}
inline std::pair<std::string, Attribute> AInts(const std::string& n, std::vector<int64_t> v) {
  Attribute a;
  a.kind = Attribute::Kind::kInts;
  a.ints = std::move(v);
  return {n, a};
}
inline std::pair<std::string, Attribute> AFloat(const std::string& n, float v) {
  Attribute a;
  a.kind = Attribute::Kind::kFloat;
  a.f = v;
  return {n, a};
}
inline std::pair<std::string, Attribute> AFloats(const std::string& n, std::vector<float> v) {
  Attribute a;
  a.kind = Attribute::Kind::kFloats;
  a.floats = std::move(v);
  return {n, a};
}
inline std::pair<std::string, Attribute> AStr(const std::string& n, std::string v) {
  Attribute a;
  a.kind = Attribute::Kind::kString;
  a.s = std::move(v);
  return {n, a};
}
inline std::pair<std::string, Attribute> ATensor(const std::string& n, Tensor t) {
  Attribute a;
  a.kind = Attribute::Kind::kTensor;
  a.t = std::move(t);
  return {n, a};
}

inline Node MakeNode(const std::string& type, int opset, std::vector<std::pair<std::string, Attribute>> attrs = {}) {
  Node n;
  n.name = "n";
  n.op_type = type;
  n.opset_version = opset;
  n.attributes = std::move(attrs);
  n.op = FindOpDef("", type);
  return n;
}

// Runs the kernel; inputs may hold nullptr for omitted optional inputs.
inline StatusOr<std::vector<Tensor>> RunOp(const Node& n, std::vector<const Tensor*> ins, int num_outputs = 1,
                                           ThreadPool* pool = nullptr) {
  if (!n.op) return Internal("no op " + n.op_type);
  KernelContext ctx(n, std::move(ins), num_outputs, pool);
  DOPT_RETURN_IF_ERROR(n.op->run(ctx));
  return ctx.outputs();
}

inline ValueInfo Info(DType t, Shape s, const Tensor* value = nullptr) {
  ValueInfo v;
  v.dtype = t;
  v.rank_known = true;
  v.shape = std::move(s);
  v.value = value;
  v.present = true;
  return v;
}

inline StatusOr<std::vector<ValueInfo>> InferOp(const Node& n, std::vector<ValueInfo> ins, int num_outputs = 1) {
  if (!n.op) return Internal("no op " + n.op_type);
  InferContext ctx(n, std::move(ins), num_outputs);
  DOPT_RETURN_IF_ERROR(n.op->infer(ctx));
  return ctx.outputs();
}

inline std::vector<float> Floats(const Tensor& t) {
  return std::vector<float>(t.data<float>(), t.data<float>() + t.numel());
}

}  // namespace shape_ops_test
}  // namespace dopt
