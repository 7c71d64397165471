// Helpers for op unit tests: build a Node with attributes, run an OpDef's Infer or Run.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "executor/executor.h"
#include "ops/op.h"

namespace dopt {
namespace optest {

inline Attribute Ints(std::vector<int64_t> v) {
  Attribute a;
  a.kind = Attribute::Kind::kInts;
  a.ints = std::move(v);
  return a;
}
inline Attribute Int(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::kInt;
  a.i = v;
  return a;
}
inline Attribute Float(float v) {
  Attribute a;
  a.kind = Attribute::Kind::kFloat;
  a.f = v;
  return a;
}
inline Attribute Str(std::string v) {
  Attribute a;
  a.kind = Attribute::Kind::kString;
  a.s = std::move(v);
  return a;
}

inline Node MakeNode(const std::string& type, std::vector<std::pair<std::string, Attribute>> attrs, int nin, int nout,
                     int opset = 17) {
  Node n;
  n.name = "test_" + type;
  n.op_type = type;
  n.opset_version = opset;
  n.attributes = std::move(attrs);
  for (int i = 0; i < nin; ++i) n.inputs.push_back(i);
  for (int i = 0; i < nout; ++i) n.outputs.push_back(nin + i);
  n.op = FindOpDef("", type);
  return n;
}

// Runs the node's kernel; inputs may contain nullptr for omitted optional inputs.
inline StatusOr<std::vector<Tensor>> RunNode(const Node& n, const std::vector<const Tensor*>& ins,
                                             ThreadPool* pool = nullptr) {
  KernelContext ctx(n, ins, (int)n.outputs.size(), pool);
  DOPT_RETURN_IF_ERROR(n.op->run(ctx));
  return ctx.outputs();
}

inline StatusOr<std::vector<ValueInfo>> InferNode(const Node& n, std::vector<ValueInfo> ins) {
  InferContext ctx(n, std::move(ins), (int)n.outputs.size());
  DOPT_RETURN_IF_ERROR(n.op->infer(ctx));
  return ctx.outputs();
}

inline ValueInfo Info(DType t, Shape s) {
  ValueInfo v;
  v.dtype = t;
  v.rank_known = true;
  v.shape = std::move(s);
  v.present = true;
  return v;
}

inline Tensor Random(const Shape& s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  Tensor t(DType::kFloat32, s);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
  return t;
}

// |got - want| <= tol * (1 + |want|) everywhere.
inline void ExpectNear(const Tensor& got, const std::vector<float>& want, float tol, const std::string& what) {
  ASSERT_EQ((size_t)got.numel(), want.size()) << what;
  const float* g = got.data<float>();
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_NEAR(g[i], want[i], tol * (1.f + std::abs(want[i]))) << what << " at " << i;
  }
}

// Adds a value to a hand-built graph: an initializer when `init` is given, else a plain value.
inline int AddTestValue(Graph& g, const std::string& name, std::optional<Tensor> init = std::nullopt) {
  Value v;
  v.name = name;
  if (init) {
    v.dtype = init->dtype();
    v.rank_known = true;
    v.shape = init->shape();
    v.initializer = std::move(init);
  }
  return g.AddValue(std::move(v));
}

// Adds a graph input with a known dtype and shape.
inline int AddTestInput(Graph& g, const std::string& name, DType dtype, Shape shape) {
  Value v;
  v.name = name;
  v.dtype = dtype;
  v.rank_known = true;
  v.shape = std::move(shape);
  int id = g.AddValue(std::move(v));
  g.inputs.push_back(id);
  return id;
}

// Runs a prepared graph once on one thread; failures are test failures.
inline std::map<std::string, Tensor> RunGraph(const Graph& g, const std::map<std::string, Tensor>& feeds) {
  auto ex = Executor::Create(g, {1});
  EXPECT_TRUE(ex.ok()) << ex.status().message();
  std::map<std::string, Tensor> outs;
  if (!ex.ok()) return outs;
  Status st = (*ex)->Run(feeds, &outs);
  EXPECT_TRUE(st.ok()) << st.message();
  return outs;
}

// Uniform [-1, 1) float32 tensor from a fixed seed.
inline Tensor RandomInput(const Shape& s, int seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> ud(-1, 1);
  Tensor t(DType::kFloat32, s);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = ud(rng);
  return t;
}

}  // namespace optest
}  // namespace dopt
