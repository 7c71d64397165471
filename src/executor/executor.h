// Runs a prepared float graph on the CPU. Observers see every produced tensor, in place.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/thread_pool.h"
#include "dopt/status.h"
#include "ir/graph.h"

namespace dopt {

// Sees each tensor once, right after the node that produced it (or when fed, for graph
// inputs). The tensor is only valid during the call: observers must not keep references.
class Observer {
 public:
  virtual ~Observer() = default;
  virtual void OnValue(const Graph& graph, int value_id, const Tensor& tensor) = 0;
};

struct ExecutorOptions {
  int num_threads = 0;  // <= 0: all cores
  // Execution-only optimisation: the executor runs a private copy of the graph rewritten by
  // speed passes (BatchNormalization folded into Conv, Relu/Clip/LeakyRelu and chains of
  // element-wise ops fused into the Conv before them; src/passes/). The caller's
  // graph is untouched. Observers then see the
  // values of the rewritten graph only (no pre-activation or pre-BN tensors), so leave this
  // off for calibration and anything else that needs every tensor.
  bool optimize = false;
  // With optimize: only the rewrites after which every value still computed has the same bits
  // as in the plain graph (the activation and epilogue fusions; no BatchNormalization folding,
  // no channels-last regions, passes/channels_last.h).
  bool exact_only = false;
  // With optimize: value ids that observers watch. No rewrite fuses them away, so calibration
  // can run the fused graph and still see every tensor it ranges (src/calib/calibrator.cc).
  std::vector<int> visible = {};
  // With optimize and without exact_only: 4-D activations kept channels-last between the
  // convolutions (passes/channels_last.h; also off with DOPT_CHANNELS_LAST=0).
  bool channels_last = true;
  // With visible: the observers do not mind a value's layout or last bits (calibration's
  // histograms), so the channels-last regions run even with exact_only, and a watched value that
  // a region keeps channels-last is observed as it is, [N, H, W, C] (the tensor's shape says so),
  // under its own id, instead of being transposed back for the observer.
  bool observe_any_layout = false;

  // For runs that observe `visible` (calibration, analysis): the fused graph, exact fusions only
  // (and the channels-last regions with `any_layout`, see observe_any_layout).
  static ExecutorOptions Observing(int num_threads, std::vector<int> visible, bool any_layout = false) {
    ExecutorOptions o;
    o.num_threads = num_threads;
    o.optimize = true;
    o.exact_only = true;
    o.visible = std::move(visible);
    o.observe_any_layout = any_layout;
    return o;
  }
};

struct RunStats {
  size_t peak_live_bytes = 0;  // largest sum of live activation tensors during the run
};

struct SubgraphPlan;  // executor.cc: constants and lifetimes of one sub-graph

class Executor {
 public:
  // `graph` must have gone through PrepareGraph(); it must outlive the executor, and its
  // initializers must not be written while the executor lives (folded values are computed from
  // them once, and kernels keep data derived from constants, such as prepacked weights).
  static StatusOr<std::unique_ptr<Executor>> Create(const Graph& graph, const ExecutorOptions& options = {});

  // Feeds are keyed by graph input name; their dtype may be the declared one or float32
  // for float16/bfloat16 inputs. Outputs come back keyed by graph output name in their
  // declared dtype.
  Status Run(const std::map<std::string, Tensor>& feeds, std::map<std::string, Tensor>* outputs,
             Observer* observer = nullptr, RunStats* stats = nullptr);

  ~Executor();

  ThreadPool* pool() { return pool_.get(); }
  // The graph that runs: the caller's, or the executor's rewritten copy with `optimize`.
  const Graph& graph() const { return graph_; }

 private:
  Executor(std::unique_ptr<Graph> owned, const Graph& graph, int threads);

  std::unique_ptr<Graph> owned_graph_;  // the optimised copy, with `optimize`
  const Graph& graph_;
  std::unique_ptr<ThreadPool> pool_;
  std::vector<Tensor> constants_;   // per value id: compute-dtype constant, or empty
  std::vector<int> last_use_;       // per value id: index of the last node reading it
  std::vector<bool> keep_;          // per value id: graph outputs are never freed
  std::vector<bool> skip_node_;     // nodes whose outputs are all folded constants
  // Per value id: the watched value it is the channels-last copy of (observe_any_layout), or -1.
  std::vector<int> observed_as_;
  // Per node: what its kernel keeps across runs (KernelContext::node_state), e.g. prepacked
  // constant weights. It relies on constants_ never changing while the executor lives.
  std::vector<std::shared_ptr<void>> node_state_;
  // Every sub-graph (If/Loop/Scan bodies, at any depth) by address: what running it needs.
  std::map<const Graph*, std::shared_ptr<SubgraphPlan>> subgraph_plans_;
  // DOPT_PROFILE=1: kernel time (ms) and call count per op type, printed on destruction (=2: per node).
  // The first Run (oneDNN primitives built, weights packed) is kept apart: the totals are those
  // of the later runs when there were any.
  bool profile_ = false;
  bool profile_nodes_ = false;  // DOPT_PROFILE=2: per node instead of per op type
  int64_t profile_runs_ = 0;    // Runs started
  bool profile_first_run_ = false;  // the Run under way is the first
  std::map<std::string, std::pair<double, int64_t>> profile_totals_, profile_first_;
};

}  // namespace dopt
