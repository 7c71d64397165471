// Runs a prepared graph on batches of calibration feeds of any size: one executor per batch
// size (the graph itself when its inputs already have it, else a copy re-shaped and
// re-prepared for it), float32 feeds of integer inputs cast exactly. Shared by the calibrator
// and the layer-wise analysis.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "dopt/status.h"
#include "executor/executor.h"
#include "ir/graph.h"

namespace dopt {

class BatchRunner {
 public:
  // `graph` must be prepared and outlive the runner. `whole`: inputs fed whole samples (no
  // batch dim: a recurrent state, a rank-0 input).
  BatchRunner(const Graph& graph, std::set<std::string> whole, ExecutorOptions options)
      : graph_(graph), whole_(std::move(whole)), options_(options) {}

  // The executor for `batch` samples (made on first use).
  StatusOr<Executor*> ExecutorFor(int64_t batch);
  // Runs one batch of `batch` samples; `feeds` are cast to the inputs' integer types in place.
  Status Run(int64_t batch, std::map<std::string, Tensor>* feeds, std::map<std::string, Tensor>* outputs,
             Observer* observer = nullptr);

 private:
  struct Runner {
    std::unique_ptr<Graph> copy;
    std::unique_ptr<Executor> exec;
  };
  const Graph& graph_;
  std::set<std::string> whole_;
  ExecutorOptions options_;
  std::map<int64_t, Runner> runners_;
};

// The first `n` samples (dim 0) of a float32 batch.
Tensor FirstSamples(const Tensor& t, int64_t n);

// Calibration files hold float32 (.bin) data. A model input of an integer or bool type (token
// ids, attention masks, sample rates) is fed the same values cast exactly: every value must be
// a whole number within the type's range (bool: 0 or 1).
Status CastFeedsToInputTypes(const Graph& graph, std::map<std::string, Tensor>* feeds);

}  // namespace dopt
