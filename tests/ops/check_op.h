// The one op-test harness (docs/architecture.md, "Testing an op"), after ncnn's test_layer and
// ggml's test-backend-ops. An OpCase is one node (type, attributes, opset: kLatestOpset unless
// the test asks for an older one) and its input tensors; CheckOp(case)
//   1. checks the node against the op's arity (VerifyOps) and runs its shape rule (OpDef::infer)
//      twice: with every input's value known, where the inferred dtype and shape must equal the
//      kernel's output exactly, and with shapes only (as for graph inputs), where they must not
//      contradict it (unknown dims and ranks are fine); fold_from_info, if the op has one, must
//      agree with the kernel;
//   2. runs the kernel with the reference kernels forced (common/kernel_options.h) and with the
//      optimised kernels allowed, and compares the two: floats within kernel_tolerance * max|ref|
//      (default 1e-5), integer and bool outputs exactly;
//   3. runs each of them single-threaded (the reference without a pool, as constant folding
//      does; the optimised one on a pool of 1, as `dopt run -t 1` does) and multi-threaded (a
//      pool of 2-4 threads, picked from the case so runs are reproducible), and requires
//      bit-identical results (or within the kernel tolerance, with ThreadsWithinTolerance());
//   4. checks that no run changed an input, and compares the outputs with the expected tensors
//      and the reference function the test gave, each within its error budget (Tol).
// It returns an AssertionResult naming the op, opset, case label, output, element and values;
// `outputs` (when given) receives the optimised single-threaded outputs for further checks.
//
//   std::vector<Tensor> y;
//   ASSERT_TRUE(CheckOp(OpCase("Conv").Attr("pads", IntsAttr({1, 1, 1, 1})).Inputs({x, w, b})
//                           .Reference(RefConv, Tol::Abs(1e-4)).Label("3x3"), &y));
//
// RunOp / InferOp call the kernel or the shape rule once, for error cases and for shape rules
// of inputs no tensor can have (unknown dims). The graph helpers at the end build and run whole
// graphs (tests/unit).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/thread_pool.h"
#include "ir/graph_edit.h"
#include "ops/op.h"

namespace dopt {
namespace optest {

// An error budget: |got - want| <= abs + rel * |want| per element. NaN matches NaN only;
// infinities must be equal.
struct Tol {
  double abs = 0;
  double rel = 0;
  static Tol Exact() { return {}; }
  static Tol Abs(double a) { return {a, 0}; }
  static Tol Rel(double r) { return {0, r}; }
  // tol * (1 + |want|): absolute near zero, relative for large values.
  static Tol Near(double t) { return {t, t}; }
};

// The reference function of a case: outputs (one per op output, or fewer to check only the
// first ones) from the case's inputs (omitted inputs are empty tensors).
using RefFn = std::function<std::vector<Tensor>(const std::vector<Tensor>& inputs)>;

// One op case: a node and its inputs, and what to check beyond the harness's own checks.
class OpCase {
 public:
  explicit OpCase(std::string type, int opset = kLatestOpset) : type_(std::move(type)), opset_(opset) {}

  OpCase& Opset(int v) { opset_ = v; return *this; }
  OpCase& Attr(const std::string& name, Attribute a) { attrs_.emplace_back(name, std::move(a)); return *this; }
  OpCase& Attrs(AttrList a) { for (auto& kv : a) attrs_.push_back(std::move(kv)); return *this; }
  // Appends inputs; an empty Tensor() (or Omitted()) is an omitted optional input.
  OpCase& Input(Tensor t) { inputs_.push_back(std::move(t)); return *this; }
  OpCase& Inputs(std::vector<Tensor> ts) { for (auto& t : ts) inputs_.push_back(std::move(t)); return *this; }
  OpCase& Omitted() { inputs_.emplace_back(); return *this; }
  OpCase& Outputs(int n) { num_outputs_ = n; return *this; }
  // Tests this OpDef instead of the op list's entry for the type (harness self-tests, an op file
  // before its ops.inc line).
  OpCase& Def(const OpDef* def) { def_ = def; return *this; }
  // Names the case in failure messages (e.g. the sweep's parameters).
  OpCase& Label(std::string s) { label_ = std::move(s); return *this; }
  // Reference vs optimised kernels: |opt - ref| <= rel * max|ref| for float outputs.
  OpCase& KernelTolerance(double rel) { kernel_tol_ = rel; return *this; }
  // Multi-threaded results may differ from single-threaded ones within the kernel tolerance.
  OpCase& ThreadsWithinTolerance() { threads_exact_ = false; return *this; }
  // Thread counts of the multi-threaded runs (default: one of 2, 3, 4 picked from the case).
  OpCase& Threads(std::vector<int> counts) { threads_ = std::move(counts); return *this; }
  // Output `output` must equal `want` (dtype in compute terms, shape, values within `tol`).
  OpCase& Expect(int output, Tensor want, Tol tol = {}) {
    expected_.push_back({output, std::move(want), tol});
    return *this;
  }
  OpCase& Expect(Tensor want, Tol tol = {}) { return Expect(0, std::move(want), tol); }
  OpCase& Reference(RefFn fn, Tol tol) {
    ref_ = std::move(fn);
    ref_tol_ = tol;
    return *this;
  }

  const std::string& type() const { return type_; }
  int opset() const { return opset_; }
  const AttrList& attrs() const { return attrs_; }
  const std::vector<Tensor>& inputs() const { return inputs_; }
  int num_outputs() const { return num_outputs_; }
  // "Conv (opset 21) 'label'", for messages.
  std::string Describe() const;
  // The node (named "n"; inputs 0..k-1, -1 where `present` is false; outputs after them),
  // made with ir/graph_edit.h's MakeNode and resolved to its OpDef (Def(), else the op list's;
  // nullptr if unknown).
  Node MakeNode(const std::vector<bool>& present) const;

 private:
  friend ::testing::AssertionResult CheckOp(const OpCase& c, std::vector<Tensor>* outputs);
  struct Expected {
    int output;
    Tensor want;
    Tol tol;
  };
  std::string type_;
  int opset_;
  const OpDef* def_ = nullptr;
  AttrList attrs_;
  std::vector<Tensor> inputs_;
  int num_outputs_ = 1;
  std::string label_;
  double kernel_tol_ = 1e-5;
  bool threads_exact_ = true;
  std::vector<int> threads_;
  std::vector<Expected> expected_;
  RefFn ref_;
  Tol ref_tol_;
};

// Runs every check above; `outputs` receives the optimised single-threaded outputs.
::testing::AssertionResult CheckOp(const OpCase& c, std::vector<Tensor>* outputs = nullptr);

// One kernel call on the case's inputs (converted to their compute dtype, as the executor does).
StatusOr<std::vector<Tensor>> RunOp(const OpCase& c, ThreadPool* pool = nullptr);
// The shape rule on `inputs` (an input with present == false is omitted).
StatusOr<std::vector<ValueInfo>> InferOp(const OpCase& c, std::vector<ValueInfo> inputs);

// ---- values for InferOp ----
ValueInfo Info(DType dtype, Shape shape, const Tensor* value = nullptr);
ValueInfo UnknownRank(DType dtype);
inline ValueInfo Absent() { return ValueInfo(); }

// ---- tensors ----
template <typename T>
Tensor Make(DType dtype, const Shape& shape, const std::vector<T>& values) {
  Tensor t(dtype, shape);
  EXPECT_EQ((int64_t)values.size(), t.numel()) << "Make: value count does not match the shape";
  EXPECT_EQ(sizeof(T), DTypeSize(dtype)) << "Make: element type does not match " << DTypeName(dtype);
  if (!values.empty() && (int64_t)values.size() == t.numel() && sizeof(T) == DTypeSize(dtype))
    std::memcpy(t.raw(), values.data(), values.size() * sizeof(T));
  return t;
}
template <typename T>
std::vector<T> Values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}
// Uniform [lo, hi) float32 values from a fixed seed.
Tensor Random(const Shape& shape, uint32_t seed, float lo = -1.f, float hi = 1.f);
// The same values as a plain vector, for kernel-level tests on raw buffers.
std::vector<float> RandomFloats(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f);
// Largest |value| of a float tensor (0 for an empty one); for error budgets.
double MaxAbs(const Tensor& t);
// Compares `got` with `want` (dtypes in compute terms, shapes, then values within `tol`).
::testing::AssertionResult TensorsNear(const Tensor& got, const Tensor& want, Tol tol, const std::string& what = "");

// ---- whole graphs (tests/unit) ----
// Adds a value to a hand-built graph: an initializer when `init` is given, else a plain value.
int AddTestValue(Graph& g, const std::string& name, std::optional<Tensor> init = std::nullopt);
// Adds a graph input with a known dtype and shape.
int AddTestInput(Graph& g, const std::string& name, DType dtype, Shape shape);
// max |a - b| / max |b| of two float32 tensors of the same size (for rewrites that keep results).
double MaxRelDiff(const Tensor& a, const Tensor& b);
// Runs a prepared graph once on one thread; failures are test failures.
std::map<std::string, Tensor> RunGraph(const Graph& g, const std::map<std::string, Tensor>& feeds);

}  // namespace optest
}  // namespace dopt
