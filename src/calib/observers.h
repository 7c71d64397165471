// Calibration observers: they watch chosen tensors as the executor produces them and keep
// only statistics (histograms), never the tensors.
#pragma once

#include <map>
#include <vector>

#include "calib/histogram.h"
#include "executor/executor.h"

namespace dopt {

class HistogramObserver : public Observer {
 public:
  // Watches the float values `value_ids` of the graph; `pool` may be null.
  HistogramObserver(std::vector<int> value_ids, int num_bins, ThreadPool* pool);
  void OnValue(const Graph& graph, int value_id, const Tensor& tensor) override;

  // Histogram of a watched value; nullptr when it was never produced.
  const Histogram* Find(int value_id) const;
  const std::map<int, Histogram>& histograms() const { return hist_; }

 private:
  std::map<int, Histogram> hist_;
  std::vector<bool> watched_;
  int num_bins_;
  ThreadPool* pool_;
};

}  // namespace dopt
