#include "check_op.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <sstream>

#include "common/kernel_options.h"
#include "executor/executor.h"

namespace dopt {
namespace optest {

namespace {

using ::testing::AssertionFailure;
using ::testing::AssertionResult;
using ::testing::AssertionSuccess;

std::string Num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// "[0, 2, 1]" for flat index `i` of `shape`.
std::string Index(const Shape& shape, int64_t i) {
  std::vector<int64_t> idx(shape.size());
  for (int d = (int)shape.size() - 1; d >= 0; --d) {
    if (shape[d] > 0) {
      idx[d] = i % shape[d];
      i /= shape[d];
    }
  }
  return ShapeToString(idx);
}

bool IsExactType(DType t) { return IsInteger(t) || t == DType::kBool; }

// The pools of the single- and multi-threaded runs, made once.
ThreadPool* Pool(int threads) {
  static std::map<int, std::unique_ptr<ThreadPool>> pools;
  auto& p = pools[threads];
  if (!p) p = std::make_unique<ThreadPool>(threads);
  return p.get();
}

// Sets the kernel switch for a scope and restores the previous setting.
class ReferenceKernels {
 public:
  explicit ReferenceKernels(bool forced) : saved_(ReferenceKernelsForced()) { SetReferenceKernelsForced(forced); }
  ~ReferenceKernels() { SetReferenceKernelsForced(saved_); }

 private:
  bool saved_;
};

std::vector<bool> Present(const std::vector<Tensor>& inputs) {
  std::vector<bool> p;
  for (const Tensor& t : inputs) p.push_back(!t.empty());
  return p;
}

StatusOr<std::vector<Tensor>> RunKernel(const Node& n, const std::vector<Tensor>& compute_inputs, ThreadPool* pool) {
  if (!n.op) return NotFound("no op " + n.op_type);
  std::vector<const Tensor*> ins;
  for (const Tensor& t : compute_inputs) ins.push_back(t.empty() ? nullptr : &t);
  KernelContext ctx(n, std::move(ins), (int)n.outputs.size(), pool);
  DOPT_RETURN_IF_ERROR(n.op->run(ctx));
  return std::move(ctx.outputs());
}

// Inferred (declared) dtype and shape against a kernel output: exactly, or (`partial`) where known.
AssertionResult MatchesInferred(const ValueInfo& inf, const Tensor& got, bool partial) {
  if (!partial && inf.dtype == DType::kUndefined) return AssertionFailure() << "no dtype inferred";
  if (inf.dtype != DType::kUndefined && ComputeDType(inf.dtype) != got.dtype())
    return AssertionFailure() << "inferred dtype " << DTypeName(inf.dtype) << ", the kernel gives " << DTypeName(got.dtype());
  if (!inf.rank_known) {
    if (partial) return AssertionSuccess();
    return AssertionFailure() << "rank not inferred, the kernel gives " << ShapeToString(got.shape());
  }
  bool ok = inf.shape.size() == got.shape().size();
  for (size_t d = 0; ok && d < inf.shape.size(); ++d)
    ok = inf.shape[d] == got.shape()[d] || (partial && inf.shape[d] < 0);
  if (!ok)
    return AssertionFailure() << "inferred shape " << ShapeToString(inf.shape) << ", the kernel gives "
                              << ShapeToString(got.shape());
  return AssertionSuccess();
}

// got vs want elementwise. `max_ref_tol` > 0: budget max_ref_tol * max|want| (reference vs
// optimised); else `tol` per element.
AssertionResult Compare(const Tensor& got, const Tensor& want_in, Tol tol, const std::string& what) {
  Tensor want = ToComputeDType(want_in);
  if (got.dtype() != want.dtype())
    return AssertionFailure() << what << ": dtype " << DTypeName(got.dtype()) << ", want " << DTypeName(want.dtype());
  if (got.shape() != want.shape())
    return AssertionFailure() << what << ": shape " << ShapeToString(got.shape()) << ", want " << ShapeToString(want.shape());
  int64_t bad = 0, first = -1;
  double first_g = 0, first_w = 0, first_budget = 0;
  std::string first_gs, first_ws;
  if (IsExactType(got.dtype())) {
    const std::vector<int64_t> g = got.ToInt64Vector(), w = want.ToInt64Vector();
    for (int64_t i = 0; i < got.numel(); ++i) {
      if (g[i] == w[i]) continue;
      double diff = std::fabs((double)g[i] - (double)w[i]), budget = tol.abs + tol.rel * std::fabs((double)w[i]);
      if (diff <= budget) continue;
      if (bad++ == 0) {
        first = i;
        first_gs = std::to_string(g[i]);
        first_ws = std::to_string(w[i]);
        first_budget = budget;
      }
    }
  } else if (got.dtype() == DType::kFloat32) {
    const float* g = got.data<float>();
    const float* w = want.data<float>();
    for (int64_t i = 0; i < got.numel(); ++i) {
      const double gv = g[i], wv = w[i];
      bool ok;
      double budget = tol.abs + tol.rel * std::fabs(wv);
      if (std::isnan(wv) || std::isnan(gv)) ok = std::isnan(wv) && std::isnan(gv);
      else if (std::isinf(wv) || std::isinf(gv)) ok = gv == wv;
      else ok = gv == wv || std::fabs(gv - wv) <= budget;
      if (ok) continue;
      if (bad++ == 0) {
        first = i;
        first_g = gv;
        first_w = wv;
        first_budget = budget;
        first_gs = Num(gv);
        first_ws = Num(wv);
      }
    }
  } else {
    return AssertionFailure() << what << ": cannot compare dtype " << DTypeName(got.dtype());
  }
  if (bad == 0) return AssertionSuccess();
  AssertionResult r = AssertionFailure();
  r << what << ": element " << first << " " << Index(got.shape(), first) << " is " << first_gs << ", want " << first_ws;
  if (!IsExactType(got.dtype())) r << " (|diff| " << Num(std::fabs(first_g - first_w)) << " > budget " << Num(first_budget) << ")";
  else if (first_budget > 0) r << " (budget " << Num(first_budget) << ")";
  if (bad > 1) r << "; " << bad << " of " << got.numel() << " elements differ";
  return r;
}

// Reference vs optimised (or single vs multi-threaded when not exact): floats within
// rel * max|want|, integers exactly.
AssertionResult CompareKernels(const Tensor& got, const Tensor& want, double rel, const std::string& what) {
  if (IsExactType(want.dtype()) || rel <= 0) return Compare(got, want, Tol::Exact(), what);
  return Compare(got, want, Tol::Abs(rel * MaxAbs(want)), what);
}

// Bit-identical (NaNs with equal payload too).
AssertionResult Identical(const Tensor& got, const Tensor& want, const std::string& what) {
  if (got.dtype() != want.dtype() || got.shape() != want.shape()) return Compare(got, want, Tol::Exact(), what);
  if (got.nbytes() == 0 || std::memcmp(got.raw(), want.raw(), got.nbytes()) == 0) return AssertionSuccess();
  AssertionResult r = Compare(got, want, Tol::Exact(), what);
  if (r) return AssertionFailure() << what << ": not bit-identical (NaN payloads or signed zeros differ)";
  return r;
}

AssertionResult CompareOutputs(const std::vector<Tensor>& got, const std::vector<Tensor>& want, const std::string& what,
                               const std::function<AssertionResult(const Tensor&, const Tensor&, const std::string&)>& cmp) {
  if (got.size() != want.size())
    return AssertionFailure() << what << ": " << got.size() << " outputs, want " << want.size();
  for (size_t o = 0; o < got.size(); ++o) {
    AssertionResult r = cmp(got[o], want[o], what + ", output " + std::to_string(o));
    if (!r) return r;
  }
  return AssertionSuccess();
}

}  // namespace

std::string OpCase::Describe() const {
  std::string s = type_ + " (opset " + std::to_string(opset_) + ")";
  if (!label_.empty()) s += " '" + label_ + "'";
  return s;
}

Node OpCase::MakeNode(const std::vector<bool>& present) const {
  std::vector<int> ins, outs;
  for (size_t i = 0; i < present.size(); ++i) ins.push_back(present[i] ? (int)i : -1);
  for (int o = 0; o < num_outputs_; ++o) outs.push_back((int)present.size() + o);
  Node n = dopt::MakeNode(type_, "n", std::move(ins), std::move(outs), attrs_, opset_);
  n.op = def_ ? def_ : FindOpDef(n.domain, n.op_type);
  return n;
}

StatusOr<std::vector<Tensor>> RunOp(const OpCase& c, ThreadPool* pool) {
  std::vector<Tensor> ins;
  for (const Tensor& t : c.inputs()) ins.push_back(t.empty() ? t : ToComputeDType(t));
  return RunKernel(c.MakeNode(Present(c.inputs())), ins, pool);
}

StatusOr<std::vector<ValueInfo>> InferOp(const OpCase& c, std::vector<ValueInfo> inputs) {
  std::vector<bool> present;
  for (const ValueInfo& v : inputs) present.push_back(v.present);
  Node n = c.MakeNode(present);
  if (!n.op) return NotFound("no op " + n.op_type);
  InferContext ctx(n, std::move(inputs), (int)n.outputs.size());
  DOPT_RETURN_IF_ERROR(n.op->infer(ctx));
  return std::move(ctx.outputs());
}

AssertionResult CheckOp(const OpCase& c, std::vector<Tensor>* outputs) {
  const std::string what = c.Describe();
  auto fail = [&]() { return AssertionFailure() << what << ": "; };
  const std::vector<bool> present = Present(c.inputs());
  const Node node = c.MakeNode(present);
  if (!node.op) return fail() << "no such op";

  // The node against the op's arity, as PrepareGraph checks it.
  {
    Graph g;
    for (size_t i = 0; i < present.size() + (size_t)c.num_outputs(); ++i) AddIntermediate(g, "v" + std::to_string(i));
    g.nodes.push_back(node);
    Status st = VerifyOps(g);
    if (!st.ok()) return fail() << st.message();
  }

  // The kernel runs: reference without a pool (as constant folding runs kernels) and on
  // multi-threaded pools; optimised on a pool of 1 and on the multi-threaded pools.
  std::vector<int> threads = c.threads_;
  if (threads.empty()) {
    std::string key = what;
    for (const Tensor& t : c.inputs()) key += ShapeToString(t.shape());
    threads.push_back(2 + (int)(std::hash<std::string>()(key) % 3));
  }
  std::vector<Tensor> compute_inputs, snapshots;
  for (const Tensor& t : c.inputs()) {
    compute_inputs.push_back(t.empty() ? t : ToComputeDType(t));
    snapshots.push_back(t.empty() ? t : compute_inputs.back().Clone());
  }
  auto run = [&](bool reference, ThreadPool* pool, const std::string& how) -> StatusOr<std::vector<Tensor>> {
    ReferenceKernels k(reference);
    auto r = RunKernel(node, compute_inputs, pool);
    if (!r.ok()) return Status(r.status().code(), how + ": " + r.status().message());
    for (size_t i = 0; i < snapshots.size(); ++i) {
      if (snapshots[i].empty()) continue;
      if (!Identical(compute_inputs[i], snapshots[i], "")) return Internal(how + ": the kernel changed input " + std::to_string(i));
    }
    if ((int)r->size() != c.num_outputs()) return Internal(how + ": the kernel gave " + std::to_string(r->size()) + " outputs");
    for (int o = 0; o < c.num_outputs(); ++o)
      if ((*r)[o].empty()) return Internal(how + ": the kernel left output " + std::to_string(o) + " unset");
    return r;
  };
  auto ref1 = run(true, nullptr, "reference kernels, no pool");
  if (!ref1.ok()) return fail() << ref1.status().message();
  auto opt1 = run(false, Pool(1), "optimised kernels, 1 thread");
  if (!opt1.ok()) return fail() << opt1.status().message();
  {
    AssertionResult r = CompareOutputs(*opt1, *ref1, "optimised vs reference kernels",
                                       [&](const Tensor& g, const Tensor& w, const std::string& s) {
                                         return CompareKernels(g, w, c.kernel_tol_, s);
                                       });
    if (!r) return fail() << r.message();
  }
  for (int t : threads) {
    for (bool reference : {true, false}) {
      const std::string how = std::string(reference ? "reference" : "optimised") + " kernels, " + std::to_string(t) + " threads";
      auto mt = run(reference, Pool(t), how);
      if (!mt.ok()) return fail() << mt.status().message();
      AssertionResult r = CompareOutputs(*mt, reference ? *ref1 : *opt1, how + " vs 1 thread",
                                         [&](const Tensor& g, const Tensor& w, const std::string& s) {
                                           return c.threads_exact_ ? Identical(g, w, s) : CompareKernels(g, w, c.kernel_tol_, s);
                                         });
      if (!r) return fail() << r.message();
    }
  }

  // The shape rule: exact with every input's value known; not contradicting with shapes only.
  for (bool values : {true, false}) {
    std::vector<ValueInfo> infos;
    for (const Tensor& t : c.inputs()) infos.push_back(t.empty() ? Absent() : Info(t.dtype(), t.shape(), values ? &t : nullptr));
    InferContext ctx(node, infos, c.num_outputs());
    Status st = node.op->infer(ctx);
    const std::string how = values ? "shape rule (input values known)" : "shape rule (input shapes only)";
    if (!st.ok()) return fail() << how << " fails where the kernel runs: " << st.message();
    for (int o = 0; o < c.num_outputs(); ++o) {
      AssertionResult r = MatchesInferred(ctx.outputs()[o], (*opt1)[o], !values);
      if (!r) return fail() << how << ", output " << o << ": " << r.message();
    }
    if (!values && node.op->fold_from_info) {
      std::vector<Tensor> folded;
      st = node.op->fold_from_info(ctx, &folded);
      if (!st.ok()) return fail() << "fold_from_info fails where the kernel runs: " << st.message();
      if (!folded.empty()) {
        AssertionResult r = CompareOutputs(folded, *opt1, "fold_from_info vs kernel",
                                           [](const Tensor& g, const Tensor& w, const std::string& s) {
                                             return Compare(g, w, Tol::Exact(), s);
                                           });
        if (!r) return fail() << r.message();
      }
    }
  }

  // What the test expects.
  for (const auto& e : c.expected_) {
    if (e.output < 0 || e.output >= c.num_outputs()) return fail() << "no output " << e.output;
    for (const auto* outs : {&*ref1, &*opt1}) {
      AssertionResult r = Compare((*outs)[e.output], e.want, e.tol,
                                  std::string(outs == &*ref1 ? "reference" : "optimised") + " kernels, output " +
                                      std::to_string(e.output) + " vs expected");
      if (!r) return fail() << r.message();
    }
  }
  if (c.ref_) {
    std::vector<Tensor> want = c.ref_(c.inputs());
    if ((int)want.size() > c.num_outputs()) return fail() << "the reference gives " << want.size() << " outputs";
    for (size_t o = 0; o < want.size(); ++o) {
      for (const auto* outs : {&*ref1, &*opt1}) {
        AssertionResult r = Compare((*outs)[o], want[o], c.ref_tol_,
                                    std::string(outs == &*ref1 ? "reference" : "optimised") + " kernels, output " +
                                        std::to_string(o) + " vs the test's reference");
        if (!r) return fail() << r.message();
      }
    }
  }
  if (outputs) *outputs = std::move(*opt1);
  return AssertionSuccess();
}

ValueInfo Info(DType dtype, Shape shape, const Tensor* value) {
  ValueInfo v;
  v.dtype = dtype;
  v.rank_known = true;
  v.shape = std::move(shape);
  v.value = value;
  v.present = true;
  return v;
}

ValueInfo UnknownRank(DType dtype) {
  ValueInfo v;
  v.dtype = dtype;
  v.present = true;
  return v;
}

Tensor Random(const Shape& shape, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  Tensor t(DType::kFloat32, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
  return t;
}

std::vector<float> RandomFloats(size_t n, uint32_t seed, float lo, float hi) {
  Tensor t = Random({(int64_t)n}, seed, lo, hi);
  return std::vector<float>(t.data<float>(), t.data<float>() + n);
}

double MaxAbs(const Tensor& t) {
  double m = 0;
  if (t.dtype() == DType::kFloat32) {
    for (int64_t i = 0; i < t.numel(); ++i)
      if (std::isfinite(t.data<float>()[i])) m = std::max(m, (double)std::fabs(t.data<float>()[i]));
  } else if (!t.empty()) {
    for (double v : t.ToDoubleVector())
      if (std::isfinite(v)) m = std::max(m, std::fabs(v));
  }
  return m;
}

AssertionResult TensorsNear(const Tensor& got, const Tensor& want, Tol tol, const std::string& what) {
  return Compare(got, want, tol, what.empty() ? "tensor" : what);
}

int AddTestValue(Graph& g, const std::string& name, std::optional<Tensor> init) {
  int id = init ? AddInitializer(g, name, std::move(*init)) : AddIntermediate(g, name);
  g.value(id).dirty = false;  // as if loaded from a file
  return id;
}

int AddTestInput(Graph& g, const std::string& name, DType dtype, Shape shape) {
  int id = AddIntermediate(g, name, dtype);
  Value& v = g.value(id);
  v.rank_known = true;
  v.shape = std::move(shape);
  v.dirty = false;
  g.inputs.push_back(id);
  return id;
}

double MaxRelDiff(const Tensor& a, const Tensor& b) {
  double m = 0, ref = 1e-6;
  for (int64_t i = 0; i < a.numel(); ++i) {
    m = std::max(m, (double)std::fabs(a.data<float>()[i] - b.data<float>()[i]));
    ref = std::max(ref, (double)std::fabs(b.data<float>()[i]));
  }
  return m / ref;
}

std::map<std::string, Tensor> RunGraph(const Graph& g, const std::map<std::string, Tensor>& feeds) {
  ExecutorOptions opts;
  opts.num_threads = 1;
  auto ex = Executor::Create(g, opts);
  EXPECT_TRUE(ex.ok()) << ex.status().message();
  std::map<std::string, Tensor> outs;
  if (!ex.ok()) return outs;
  Status st = (*ex)->Run(feeds, &outs);
  EXPECT_TRUE(st.ok()) << st.message();
  return outs;
}

}  // namespace optest
}  // namespace dopt
