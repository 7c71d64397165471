#include "calib/calibrator.h"

#include <functional>
#include <memory>
#include <set>

#include "calib/batch_runner.h"
#include "calib/observers.h"
#include "common/progress.h"
#include "executor/executor.h"

namespace dopt {

namespace {

struct StreamRun {
  int64_t samples = 0, skipped = 0, batches = 0;
};

StatusOr<std::vector<int>> ValueIds(const Graph& graph, const std::vector<std::string>& tensors) {
  std::vector<int> ids;
  for (const std::string& t : tensors) {
    int id = graph.FindValue(t);
    if (id < 0) return Internal("calibration: no tensor '" + t + "' in the graph");
    ids.push_back(id);
  }
  return ids;
}

// Runs the graph over the stream's samples (at most o.max_samples) with the observer that
// `observer_for` gives (made once, from the first executor's thread pool) watching the values
// `watched`. `any_layout`: the observer takes statistics that do not depend on the layout or on
// the last bits (ExecutorOptions::observe_any_layout).
StatusOr<StreamRun> RunOverStream(const Graph& graph, CalibrationStream& stream, const CalibratorOptions& o,
                                  const std::vector<int>& watched, bool any_layout, const char* label,
                                  const std::function<Observer*(ThreadPool*)>& observer_for) {
  // The fused graph, keeping every watched tensor; with any_layout also the channels-last
  // regions, which round their convolutions differently (statistics do not mind).
  const ExecutorOptions eo = ExecutorOptions::Observing(o.num_threads, watched, any_layout);
  Observer* observer = nullptr;
  int64_t total = stream.num_samples();
  if (o.max_samples > 0 && o.max_samples < total) total = o.max_samples;
  Progress progress(label, total);
  if (!o.progress) progress.set_tty(false);
  StreamRun res;
  std::map<std::string, Tensor> feeds, outputs;
  std::set<std::string> whole;
  for (const auto& src : stream.sources())
    if (src->whole_samples()) whole.insert(src->input_name());
  BatchRunner runner(graph, whole, eo);
  while (res.samples < total) {
    int64_t drawn_before = stream.samples_drawn();
    DOPT_ASSIGN_OR_RETURN(bool more, stream.NextBatch(&feeds));
    if (!more) break;
    int64_t b = stream.samples_drawn() - drawn_before;
    if (res.samples + b > total) {
      b = total - res.samples;
      for (auto& kv : feeds)
        if (!whole.count(kv.first)) kv.second = FirstSamples(kv.second, b);
    }
    auto exec = runner.ExecutorFor(b);
    if (!exec.ok()) return exec.status();
    // One observer for every runner: value ids are the same in the copies.
    if (!observer) observer = observer_for((*exec)->pool());
    outputs.clear();
    Status st = runner.Run(b, &feeds, &outputs, observer);
    if (!st.ok()) return st.WithContext(std::string(label) + " batch " + std::to_string(res.batches + 1));
    res.samples += b;
    ++res.batches;
    if (o.progress) progress.Update(res.samples);
  }
  if (o.progress) progress.Finish();
  res.skipped = stream.samples_skipped();
  if (res.samples == 0) return InvalidArgument("calibration: the calibration data yielded no usable sample");
  return res;
}

}  // namespace

StatusOr<CalibrationResult> Calibrate(const Graph& graph, const std::vector<std::string>& tensors,
                                      CalibrationStream& stream, const CalibratorOptions& o) {
  DOPT_ASSIGN_OR_RETURN(std::vector<int> ids, ValueIds(graph, tensors));
  std::unique_ptr<HistogramObserver> observer;
  DOPT_ASSIGN_OR_RETURN(StreamRun run, RunOverStream(graph, stream, o, ids, /*any_layout=*/true, "calibrating", [&](ThreadPool* pool) {
    // minmax reads the extremes only: no bins to fill.
    observer = std::make_unique<HistogramObserver>(ids, o.method == CalibMethod::kMinMax ? 0 : o.num_bins, pool);
    return observer.get();
  }));
  CalibrationResult res;
  res.samples = run.samples;
  res.skipped = run.skipped;
  res.batches = run.batches;
  for (int id : ids) {
    const Histogram* h = observer->Find(id);
    if (!h || h->empty()) continue;
    const std::string& name = graph.value(id).name;
    res.ranges[name] = ComputeRange(*h, o.method, o.range);
    res.minmax[name] = {h->min(), h->max()};
  }
  return res;
}

StatusOr<std::map<std::string, std::vector<float>>> ChannelAbsMax(const Graph& graph,
                                                                  const std::vector<std::string>& tensors,
                                                                  CalibrationStream& stream,
                                                                  const CalibratorOptions& o) {
  DOPT_ASSIGN_OR_RETURN(std::vector<int> ids, ValueIds(graph, tensors));
  std::unique_ptr<ChannelAbsMaxObserver> observer;
  DOPT_ASSIGN_OR_RETURN(StreamRun run, RunOverStream(graph, stream, o, ids, /*any_layout=*/false, "smoothing", [&](ThreadPool*) {
    observer = std::make_unique<ChannelAbsMaxObserver>(ids);
    return observer.get();
  }));
  (void)run;
  std::map<std::string, std::vector<float>> out;
  for (const auto& [id, m] : observer->absmax()) out[graph.value(id).name] = m;
  return out;
}

}  // namespace dopt
