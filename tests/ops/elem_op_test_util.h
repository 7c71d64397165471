// Small helpers for the elementwise op tests: build a Node, run its OpDef directly.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "ops/op.h"

namespace dopt {
namespace elemtest {

inline Attribute AttrF(float f) { Attribute a; a.kind = Attribute::Kind::kFloat; a.f = f; return a; }
inline Attribute AttrI(int64_t i) { Attribute a; a.kind = Attribute::Kind::kInt; a.i = i; return a; }
inline Attribute AttrInts(std::vector<int64_t> v) { Attribute a; a.kind = Attribute::Kind::kInts; a.ints = std::move(v); return a; }
inline Attribute AttrFloats(std::vector<float> v) { Attribute a; a.kind = Attribute::Kind::kFloats; a.floats = std::move(v); return a; }
inline Attribute AttrS(std::string s) { Attribute a; a.kind = Attribute::Kind::kString; a.s = std::move(s); return a; }
inline Attribute AttrT(Tensor t) { Attribute a; a.kind = Attribute::Kind::kTensor; a.t = std::move(t); return a; }

using Attrs = std::vector<std::pair<std::string, Attribute>>;

// A node with inputs 0..n_in-1 (or -1 where `omitted`) and n_out outputs.
inline Node MakeNode(const std::string& type, int n_in, int n_out, Attrs attrs = {}, int opset = 13,
                     std::vector<int> omitted = {}) {
  Node n;
  n.name = "n";
  n.op_type = type;
  n.opset_version = opset;
  for (int i = 0; i < n_in; ++i) n.inputs.push_back(i);
  for (int o : omitted) n.inputs[o] = -1;
  for (int i = 0; i < n_out; ++i) n.outputs.push_back(n_in + i);
  n.attributes = std::move(attrs);
  n.op = FindOpDef("", type);
  EXPECT_NE(n.op, nullptr) << type;
  return n;
}

template <typename T>
Tensor Make(DType dt, const Shape& shape, const std::vector<T>& v) {
  Tensor t(dt, shape);
  EXPECT_EQ((int64_t)v.size(), t.numel());
  EXPECT_EQ(sizeof(T), DTypeSize(dt));
  if (!v.empty()) std::memcpy(t.raw(), v.data(), v.size() * sizeof(T));
  return t;
}
inline Tensor F(const Shape& shape, const std::vector<float>& v) { return Make<float>(DType::kFloat32, shape, v); }

template <typename T>
std::vector<T> Values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

// Runs the node's kernel; nullptr inputs are omitted optional inputs.
inline StatusOr<std::vector<Tensor>> RunNode(const Node& n, std::vector<const Tensor*> ins, ThreadPool* pool = nullptr) {
  KernelContext ctx(n, std::move(ins), (int)n.outputs.size(), pool);
  DOPT_RETURN_IF_ERROR(n.op->run(ctx));
  return ctx.outputs();
}

inline ValueInfo Info(DType dt, Shape shape, const Tensor* value = nullptr) {
  ValueInfo v;
  v.dtype = dt;
  v.rank_known = true;
  v.shape = std::move(shape);
  v.value = value;
  v.present = true;
  return v;
}
inline ValueInfo UnknownRank(DType dt) {
  ValueInfo v;
  v.dtype = dt;
  v.present = true;
  return v;
}

inline StatusOr<std::vector<ValueInfo>> InferNode(const Node& n, std::vector<ValueInfo> ins) {
  InferContext ctx(n, std::move(ins), (int)n.outputs.size());
  DOPT_RETURN_IF_ERROR(n.op->infer(ctx));
  return ctx.outputs();
}

}  // namespace elemtest
}  // namespace dopt
