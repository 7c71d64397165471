#include "calib/observers.h"

#include <algorithm>
#include <cmath>

namespace dopt {

namespace {

std::vector<bool> WatchList(const std::vector<int>& value_ids) {
  int max_id = value_ids.empty() ? -1 : *std::max_element(value_ids.begin(), value_ids.end());
  std::vector<bool> watched(max_id + 1, false);
  for (int v : value_ids)
    if (v >= 0) watched[v] = true;
  return watched;
}

bool Watched(const std::vector<bool>& watched, int value_id) {
  return value_id >= 0 && value_id < (int)watched.size() && watched[value_id];
}

}  // namespace

HistogramObserver::HistogramObserver(std::vector<int> value_ids, int num_bins, ThreadPool* pool)
    : watched_(WatchList(value_ids)), num_bins_(num_bins), pool_(pool) {}

void HistogramObserver::OnValue(const Graph& graph, int value_id, const Tensor& tensor) {
  if (!Watched(watched_, value_id)) return;
  if (tensor.dtype() != DType::kFloat32) return;
  auto it = hist_.find(value_id);
  if (it == hist_.end()) it = hist_.emplace(value_id, Histogram(num_bins_)).first;
  it->second.Add(tensor.data<float>(), tensor.numel(), pool_);
}

ChannelAbsMaxObserver::ChannelAbsMaxObserver(std::vector<int> value_ids) : watched_(WatchList(value_ids)) {}

void ChannelAbsMaxObserver::OnValue(const Graph&, int value_id, const Tensor& tensor) {
  if (!Watched(watched_, value_id) || tensor.dtype() != DType::kFloat32 || tensor.rank() == 0) return;
  const int64_t k = tensor.shape().back();
  if (k <= 0) return;
  std::vector<float>& m = absmax_[value_id];
  if ((int64_t)m.size() != k) m.assign(k, 0.f);
  const float* x = tensor.data<float>();
  const int64_t rows = tensor.numel() / k;
  for (int64_t r = 0; r < rows; ++r, x += k)
    for (int64_t c = 0; c < k; ++c) m[c] = std::max(m[c], std::fabs(x[c]));
}

const Histogram* HistogramObserver::Find(int value_id) const {
  auto it = hist_.find(value_id);
  return it == hist_.end() ? nullptr : &it->second;
}

}  // namespace dopt
