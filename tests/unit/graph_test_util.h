// Helpers of the graph-level unit tests (passes through the executor): random tensors, a float
// graph input, a run that counts the executor graph's nodes of a type.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <utility>

#include "executor/executor.h"
#include "ir/graph.h"

namespace dopt {
namespace testutil {

// Uniform floats in [lo, hi) from a fixed seed.
inline Tensor RandomTensor(const Shape& s, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  Tensor t(DType::kFloat32, s);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
  return t;
}

// Adds a float32 graph input `name` of `shape`; returns its value id.
inline int AddFloatInput(Graph& g, const std::string& name, const Shape& shape) {
  Value v;
  v.name = name;
  v.dtype = DType::kFloat32;
  v.rank_known = true;
  v.shape = shape;
  const int id = g.AddValue(std::move(v));
  g.inputs.push_back(id);
  return id;
}

// Runs g through an executor made with `o` on `feeds`; returns output `out` and how many nodes of
// `op_type` the executor's (rewritten) graph has.
inline std::pair<Tensor, size_t> RunAndCount(const Graph& g, const ExecutorOptions& o,
                                             const std::map<std::string, Tensor>& feeds, const std::string& out,
                                             const std::string& op_type) {
  auto ex = Executor::Create(g, o);
  EXPECT_TRUE(ex.ok()) << ex.status().message();
  if (!ex.ok()) return {Tensor(), 0};
  std::map<std::string, Tensor> outs;
  Status st = (*ex)->Run(feeds, &outs);
  EXPECT_TRUE(st.ok()) << st.message();
  size_t count = 0;
  for (const Node& n : (*ex)->graph().nodes) count += n.op_type == op_type;
  return {outs.count(out) ? outs.at(out) : Tensor(), count};
}

}  // namespace testutil
}  // namespace dopt
