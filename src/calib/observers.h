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

// The largest |x| per channel of each watched value, the channel being its last axis (what
// activation smoothing needs: one factor per input channel of a MatMul/Gemm).
class ChannelAbsMaxObserver : public Observer {
 public:
  explicit ChannelAbsMaxObserver(std::vector<int> value_ids);
  void OnValue(const Graph& graph, int value_id, const Tensor& tensor) override;
  // Per value id; absent when never produced.
  const std::map<int, std::vector<float>>& absmax() const { return absmax_; }

 private:
  std::map<int, std::vector<float>> absmax_;
  std::vector<bool> watched_;
};

}  // namespace dopt
