#include "executor/executor.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "kernels/convert.h"
#include "ops/op.h"
#include "passes/channels_last.h"
#include "passes/fold_batchnorm.h"
#include "passes/fold_pad.h"
#include "passes/fold_constants.h"
#include "passes/fuse_gelu.h"
#include "passes/fuse_group_norm.h"
#include "passes/fuse_conv_activation.h"
#include "passes/fuse_conv_add.h"
#include "passes/fuse_conv_epilogue.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace dopt {

namespace {

// Buffer reuse across runs. Every run allocates its activations afresh; with glibc's default
// thresholds, large buffers are mmap'ed (or the heap top trimmed) and returned to the kernel
// when freed, so each run pays page faults and page clearing again (~7% of a SqueezeNet
// forward). Raising the mmap and trim thresholds keeps freed buffers in the heap, where the
// next run's same-sized allocations find them. Process-wide and set once; only with
// ExecutorOptions::optimize (i.e. `dopt run`).
void ReuseFreedMemory() {
#if defined(__GLIBC__)
  static const bool done = [] {
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    return true;
  }();
  (void)done;
#endif
}

}  // namespace

// What running one sub-graph needs besides the graph: compute-dtype constants, lifetimes, and
// its outer-scope values (filled from the enclosing execution on every run).
struct SubgraphPlan {
  std::vector<Tensor> constants;  // per value id
  std::vector<int> last_use;      // per value id: the last node reading it, -1 for none
  std::vector<char> keep;         // sub-graph outputs
  std::vector<char> skip;         // per node: all outputs folded
  std::vector<int> outer;         // outer-scope value ids
};

namespace {

using PlanMap = std::map<const Graph*, std::shared_ptr<SubgraphPlan>>;

// Per-value constants, last uses and folded nodes of a graph (the top level's or a sub-graph's).
Status PlanGraph(const Graph& graph, std::vector<Tensor>* constants, std::vector<int>* last_use,
                 std::vector<char>* skip) {
  const size_t nv = graph.values.size();
  constants->assign(nv, Tensor());
  last_use->assign(nv, -1);
  for (size_t v = 0; v < nv; ++v) {
    const Value& val = graph.values[v];
    if (val.initializer) (*constants)[v] = ToComputeDType(*val.initializer);
    else if (val.folded && !val.outer_scope) (*constants)[v] = *val.folded;
  }
  skip->assign(graph.nodes.size(), 0);
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    if (!node.op) return Internal(node.Describe() + ": op not resolved");
    bool all_folded = true;
    for (int o : node.outputs)
      if (o >= 0 && !graph.values[o].folded) all_folded = false;
    (*skip)[i] = all_folded;
    if (all_folded) continue;
    for (int v : node.inputs)
      if (v >= 0) (*last_use)[v] = (int)i;
    for (int v : node.implicit_inputs)
      if (v >= 0) (*last_use)[v] = (int)i;
  }
  return Status::Ok();
}

// Plans every sub-graph of `graph`'s nodes, recursively.
Status PlanSubgraphs(const Graph& graph, PlanMap* plans) {
  for (const Node& node : graph.nodes) {
    for (const auto& kv : node.attributes) {
      if (kv.second.kind != Attribute::Kind::kGraph || !kv.second.g) continue;
      const Graph& sub = *kv.second.g;
      if (plans->count(&sub)) continue;
      auto plan = std::make_shared<SubgraphPlan>();
      Status st = PlanGraph(sub, &plan->constants, &plan->last_use, &plan->skip);
      if (!st.ok()) return st.WithContext(node.Describe() + ", sub-graph '" + kv.first + "'");
      plan->keep.assign(sub.values.size(), 0);
      for (int o : sub.outputs)
        if (o >= 0) plan->keep[o] = 1;
      for (int v = 0; v < (int)sub.values.size(); ++v)
        if (sub.values[v].outer_scope) plan->outer.push_back(v);
      (*plans)[&sub] = plan;
      DOPT_RETURN_IF_ERROR(PlanSubgraphs(sub, plans));
    }
  }
  return Status::Ok();
}

// Runs sub-graphs of the nodes of one running graph (`graph`, whose tensors are `constants`
// and `live`): outer-scope names resolve there. A sub-graph's own nodes get a runner over the
// sub-graph's tensors, so nested sub-graphs resolve through each level.
class ScopeRunner : public SubgraphRunner {
 public:
  ScopeRunner(const PlanMap& plans, const Graph& graph, const std::vector<Tensor>& constants,
              const std::vector<Tensor>& live, ThreadPool* pool)
      : plans_(plans), graph_(graph), constants_(constants), live_(live), pool_(pool) {}

  StatusOr<std::vector<Tensor>> Run(const Graph& body, const std::vector<Tensor>& inputs) override {
    auto it = plans_.find(&body);
    if (it == plans_.end()) return Internal("a sub-graph that was not prepared with its graph");
    const SubgraphPlan& plan = *it->second;
    if (inputs.size() != body.inputs.size()) {
      return InvalidArgument("the sub-graph takes " + std::to_string(body.inputs.size()) + " inputs, given " +
                             std::to_string(inputs.size()));
    }
    std::vector<Tensor> live(body.values.size());
    for (size_t i = 0; i < inputs.size(); ++i) live[body.inputs[i]] = inputs[i];
    for (int v : plan.outer) {
      const std::string& name = body.value(v).name;
      int id = graph_.FindValue(name);
      const Tensor* t = id < 0 ? nullptr : !constants_[id].empty() ? &constants_[id] : &live_[id];
      if (!t || t->empty()) return Internal("the sub-graph's outer-scope value '" + name + "' is not available");
      live[v] = *t;  // shares the buffer
    }
    ScopeRunner inner(plans_, body, plan.constants, live, pool_);
    std::vector<const Tensor*> ins;
    for (size_t i = 0; i < body.nodes.size(); ++i) {
      if (plan.skip[i]) continue;
      const Node& node = body.nodes[i];
      ins.assign(node.inputs.size(), nullptr);
      for (size_t k = 0; k < node.inputs.size(); ++k) {
        int v = node.inputs[k];
        if (v < 0) continue;
        ins[k] = !plan.constants[v].empty() ? &plan.constants[v] : &live[v];
        if (ins[k]->empty()) return Internal(node.Describe() + ": input '" + body.value(v).name + "' was not computed");
      }
      KernelContext ctx(node, ins, (int)node.outputs.size(), pool_);
      ctx.set_subgraphs(&inner);
      Status st = node.op->run(ctx);
      if (!st.ok()) return st.WithContext(node.Describe());
      for (size_t o = 0; o < node.outputs.size(); ++o) {
        int v = node.outputs[o];
        if (v < 0 || !plan.constants[v].empty()) continue;
        live[v] = std::move(ctx.outputs()[o]);
        if (live[v].empty()) return Internal(node.Describe() + ": output " + std::to_string(o) + " not set");
      }
      for (const std::vector<int>* list : {&node.inputs, &node.implicit_inputs})
        for (int v : *list)
          if (v >= 0 && plan.last_use[v] == (int)i && !plan.keep[v]) live[v] = Tensor();
    }
    std::vector<Tensor> outs;
    outs.reserve(body.outputs.size());
    for (int o : body.outputs) {
      const Tensor& t = !plan.constants[o].empty() ? plan.constants[o] : live[o];
      if (t.empty()) return Internal("sub-graph output '" + body.value(o).name + "' was not computed");
      outs.push_back(t);
    }
    return outs;
  }

 private:
  const PlanMap& plans_;
  const Graph& graph_;
  const std::vector<Tensor>& constants_;
  const std::vector<Tensor>& live_;
  ThreadPool* pool_;
};

}  // namespace

Executor::Executor(std::unique_ptr<Graph> owned, const Graph& graph, int threads)
    : owned_graph_(std::move(owned)),
      graph_(owned_graph_ ? *owned_graph_ : graph),
      pool_(std::make_unique<ThreadPool>(threads)) {
  const char* e = std::getenv("DOPT_PROFILE");
  profile_ = e && (e[0] == '1' || e[0] == '2');
  profile_nodes_ = profile_ && e[0] == '2';
}

Executor::~Executor() {
  if (!profile_) return;
  const bool later = !profile_totals_.empty();  // runs after the first
  std::map<std::string, std::pair<double, int64_t>>& totals = later ? profile_totals_ : profile_first_;
  if (totals.empty()) return;
  std::vector<std::pair<double, std::string>> rows;
  double total = 0;
  for (const auto& kv : totals) {
    rows.push_back({kv.second.first, kv.first});
    total += kv.second.first;
  }
  std::sort(rows.rbegin(), rows.rend());
  double first = 0;
  for (const auto& kv : profile_first_) first += kv.second.first;
  std::fprintf(stderr, "DOPT_PROFILE: kernel time per %s, %s (total %.2f ms; the first run %.2f ms)\n",
               profile_nodes_ ? "node" : "op type",
               later ? (std::to_string(profile_runs_ - 1) + " runs after the first").c_str() : "the first run", total,
               first);
  for (const auto& r : rows) {
    std::fprintf(stderr, "  %-24s %10.2f ms %5.1f%%  (%ld calls)\n", r.second.c_str(), r.first,
                 100.0 * r.first / std::max(total, 1e-9), (long)totals[r.second].second);
  }
}

StatusOr<std::unique_ptr<Executor>> Executor::Create(const Graph& user_graph, const ExecutorOptions& options) {
  std::unique_ptr<Graph> owned;
  std::map<int, int> stand_ins;  // channels-last copy -> the watched value it is observed as
  if (options.optimize) {
    owned = std::make_unique<Graph>(user_graph);  // tensors share buffers; passes replace, never write into them
    // The passes never fuse a graph output away: visible values are outputs while they run.
    const std::vector<int> outputs = owned->outputs;
    for (int v : options.visible)
      if (v >= 0 && v < (int)owned->values.size() &&
          std::find(owned->outputs.begin(), owned->outputs.end(), v) == owned->outputs.end())
        owned->outputs.push_back(v);
    if (!options.exact_only) {
      // Weights that exporters keep in Constant nodes (paddle2onnx) or compute from constants
      // become initializers first, so that BatchNormalization folds and the convs find them.
      // A constant whose kernel fails leaves the graph as it was (the pass stops before it
      // edits): the node then runs, and reports, as it would have without the pass.
      PassManager fold;
      fold.Add(std::make_unique<FoldConstantsPass>());
      (void)fold.Run(*owned);
    }
    PassManager pm;
    if (!options.exact_only) {
      pm.Add(std::make_unique<FoldPadPass>());
      pm.Add(std::make_unique<FoldBatchNormPass>());
      pm.Add(std::make_unique<FuseGeluPass>());
      pm.Add(std::make_unique<FuseGroupNormPass>());
    }
    pm.Add(std::make_unique<FuseConvActivationPass>());
    pm.Add(std::make_unique<FuseConvEpiloguePass>());
    pm.Add(std::make_unique<FuseConvAddPass>());
    ChannelsLastPass* regions = nullptr;
    if ((!options.exact_only || options.observe_any_layout) && options.channels_last && ChannelsLastEnabled()) {
      // Watched values that are not real outputs may stay channels-last for their observers.
      std::vector<int> layout_free;
      if (options.observe_any_layout)
        for (int v : options.visible)
          if (std::find(outputs.begin(), outputs.end(), v) == outputs.end()) layout_free.push_back(v);
      auto pass = std::make_unique<ChannelsLastPass>(std::move(layout_free));
      regions = pass.get();
      pm.Add(std::move(pass));
    }
    DOPT_RETURN_IF_ERROR(pm.Run(*owned).WithContext("optimising the graph for execution"));
    owned->outputs = outputs;
    if (regions) stand_ins = regions->stand_ins();
    ReuseFreedMemory();
  }
  std::unique_ptr<Executor> ex(new Executor(std::move(owned), user_graph, options.num_threads));
  const Graph& graph = ex->graph_;
  const size_t nv = graph.values.size();
  std::vector<char> skip;
  DOPT_RETURN_IF_ERROR(PlanGraph(graph, &ex->constants_, &ex->last_use_, &skip));
  ex->skip_node_.assign(skip.begin(), skip.end());
  ex->node_state_.assign(graph.nodes.size(), nullptr);
  ex->keep_.assign(nv, false);
  for (int o : graph.outputs) ex->keep_[o] = true;
  ex->observed_as_.assign(nv, -1);
  for (const auto& [copy, of] : stand_ins) ex->observed_as_[(size_t)copy] = of;
  DOPT_RETURN_IF_ERROR(PlanSubgraphs(graph, &ex->subgraph_plans_));
  return ex;
}

Status Executor::Run(const std::map<std::string, Tensor>& feeds, std::map<std::string, Tensor>* outputs,
                     Observer* observer, RunStats* stats) {
  const Graph& g = graph_;
  profile_first_run_ = profile_runs_++ == 0;
  std::vector<Tensor> live(g.values.size());
  // Views (Reshape, Identity, ...) share their input's buffer: only owners are counted.
  std::vector<bool> counted(g.values.size(), false);
  size_t live_bytes = 0, peak = 0;
  auto account = [&](const Tensor& t, bool add) {
    if (add) {
      live_bytes += t.nbytes();
      peak = std::max(peak, live_bytes);
    } else {
      live_bytes -= t.nbytes();
    }
  };

  for (const auto& kv : feeds) {
    int id = g.FindValue(kv.first);
    if (id < 0 || std::find(g.inputs.begin(), g.inputs.end(), id) == g.inputs.end()) {
      std::string names;
      for (int in : g.inputs) names += (names.empty() ? "" : ", ") + g.value(in).name;
      return InvalidArgument("'" + kv.first + "' is not an input of the model (inputs: " + names + ")");
    }
  }

  for (int in : g.inputs) {
    const Value& v = g.value(in);
    auto it = feeds.find(v.name);
    if (it == feeds.end()) return InvalidArgument("no data given for graph input '" + v.name + "'");
    const Tensor& t = it->second;
    if (ComputeDType(t.dtype()) != ComputeDType(v.dtype)) {
      return InvalidArgument("input '" + v.name + "' is " + DTypeName(t.dtype()) + ", the model expects " +
                             DTypeName(v.dtype));
    }
    if (v.rank_known) {
      bool ok = t.rank() == (int)v.shape.size();
      for (size_t d = 0; ok && d < v.shape.size(); ++d)
        if (v.shape[d] >= 0 && v.shape[d] != t.dim((int)d)) ok = false;
      if (!ok) {
        return InvalidArgument("input '" + v.name + "' has shape " + ShapeToString(t.shape()) +
                               ", the model expects " + ShapeToString(v.shape));
      }
    }
    if (t.dtype() == DType::kFloat16) {
      live[in] = Tensor::Uninitialized(DType::kFloat32, t.shape());
      kernels::HalfToFloatArray(t.data<uint16_t>(), live[in].data<float>(), t.numel());
    } else {
      live[in] = ToComputeDType(t);
    }
    account(live[in], true);
    counted[in] = true;
    if (observer) observer->OnValue(g, in, live[in]);
  }
  std::vector<const Tensor*> ins;
  ScopeRunner subgraphs(subgraph_plans_, g, constants_, live, pool_.get());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (skip_node_[i]) continue;
    const Node& node = g.nodes[i];
    ins.assign(node.inputs.size(), nullptr);
    uint64_t constant_inputs = 0;
    for (size_t k = 0; k < node.inputs.size(); ++k) {
      int v = node.inputs[k];
      if (v < 0) continue;
      ins[k] = !constants_[v].empty() ? &constants_[v] : &live[v];
      if (ins[k]->empty()) return Internal(node.Describe() + ": input '" + g.value(v).name + "' was not computed");
      if (!constants_[v].empty() && k < 64) constant_inputs |= uint64_t{1} << k;
    }
    KernelContext ctx(node, ins, (int)node.outputs.size(), pool_.get());
    ctx.set_subgraphs(&subgraphs);
    ctx.set_node_state(&node_state_[i], constant_inputs);
    const auto t0 = profile_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
    Status st = node.op->run(ctx);
    if (profile_) {
      auto& totals = profile_first_run_ ? profile_first_ : profile_totals_;
      auto& e = totals[profile_nodes_ ? node.name + " (" + node.op_type + ")" : node.op_type];
      e.first += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      e.second += 1;
    }
    if (!st.ok()) return st.WithContext(node.Describe());
    for (size_t o = 0; o < node.outputs.size(); ++o) {
      int v = node.outputs[o];
      if (v < 0) continue;
      if (!constants_[v].empty()) continue;  // folded: the constant stands
      live[v] = std::move(ctx.outputs()[o]);
      if (live[v].empty()) return Internal(node.Describe() + ": output " + std::to_string(o) + " not set");
      bool view = false;
      for (const Tensor* in : ins)
        if (in && in->SharesStorageWith(live[v])) view = true;
      if (!view) {
        account(live[v], true);
        counted[v] = true;
      }
      if (observer) observer->OnValue(g, observed_as_[v] >= 0 ? observed_as_[v] : v, live[v]);
    }
    for (const std::vector<int>* list : {&node.inputs, &node.implicit_inputs}) {
      for (int v : *list) {
        if (v >= 0 && last_use_[v] == (int)i && !keep_[v] && !live[v].empty()) {
          if (counted[v]) account(live[v], false);
          counted[v] = false;
          live[v] = Tensor();
        }
      }
    }
    // Outputs nobody reads are dropped at once.
    for (int v : node.outputs) {
      if (v >= 0 && last_use_[v] < 0 && !keep_[v] && !live[v].empty()) {
        if (counted[v]) account(live[v], false);
        counted[v] = false;
        live[v] = Tensor();
      }
    }
  }

  if (outputs) {
    outputs->clear();
    for (int o : g.outputs) {
      const Value& v = g.value(o);
      const Tensor& t = !constants_[o].empty() ? constants_[o] : live[o];
      if (t.empty()) return Internal("graph output '" + v.name + "' was not computed");
      DType want = v.dtype == DType::kUndefined ? t.dtype() : v.dtype;
      (*outputs)[v.name] = t.dtype() == want ? t : t.CastTo(want);
    }
  }
  if (stats) stats->peak_live_bytes = peak;
  return Status::Ok();
}

}  // namespace dopt
