#include "calib/observers.h"

#include <algorithm>

namespace dopt {

HistogramObserver::HistogramObserver(std::vector<int> value_ids, int num_bins, ThreadPool* pool)
    : num_bins_(num_bins), pool_(pool) {
  int max_id = value_ids.empty() ? -1 : *std::max_element(value_ids.begin(), value_ids.end());
  watched_.assign(max_id + 1, false);
  for (int v : value_ids)
    if (v >= 0) watched_[v] = true;
}

void HistogramObserver::OnValue(const Graph& graph, int value_id, const Tensor& tensor) {
  if (value_id < 0 || value_id >= (int)watched_.size() || !watched_[value_id]) return;
  if (tensor.dtype() != DType::kFloat32) return;
  auto it = hist_.find(value_id);
  if (it == hist_.end()) it = hist_.emplace(value_id, Histogram(num_bins_)).first;
  it->second.Add(tensor.data<float>(), tensor.numel(), pool_);
}

const Histogram* HistogramObserver::Find(int value_id) const {
  auto it = hist_.find(value_id);
  return it == hist_.end() ? nullptr : &it->second;
}

}  // namespace dopt
