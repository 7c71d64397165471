#include "calib/calibrator.h"

#include <cstring>
#include <memory>
#include <set>

#include "calib/observers.h"
#include "common/progress.h"
#include "executor/executor.h"
#include "ir/tensor_cast.h"
#include "ops/shape_inference.h"

namespace dopt {

namespace {

// The first `n` samples (dim 0) of a float32 batch.
Tensor Prefix(const Tensor& t, int64_t n) {
  Shape s = t.shape();
  s[0] = n;
  Tensor out(DType::kFloat32, s);
  std::memcpy(out.raw(), t.raw(), out.nbytes());
  return out;
}

// An executor for one batch size: the graph itself when its inputs already have it, else a
// copy re-shaped (and re-prepared) for it.
struct Runner {
  std::unique_ptr<Graph> copy;
  std::unique_ptr<Executor> exec;
};

// `whole`: inputs fed whole samples (no batch dim: a recurrent state, a rank-0 input).
StatusOr<Runner> MakeRunner(const Graph& graph, int64_t batch, const std::set<std::string>& whole,
                            const ExecutorOptions& eo) {
  Runner r;
  bool same = true;
  for (int id : graph.inputs) {
    const Value& v = graph.value(id);
    if (whole.count(v.name)) continue;
    if (!v.rank_known || v.shape.empty() || v.shape[0] != batch) same = false;
  }
  const Graph* g = &graph;
  if (!same) {
    r.copy = std::make_unique<Graph>(graph);
    for (Value& v : r.copy->values) v.folded.reset();
    for (int id : r.copy->inputs) {
      Value& v = r.copy->value(id);
      if (v.rank_known && !v.shape.empty() && !whole.count(v.name)) v.shape[0] = batch;
    }
    Status st = PrepareGraph(*r.copy);
    if (!st.ok()) return st.WithContext("preparing the graph for a batch of " + std::to_string(batch));
    g = r.copy.get();
  }
  DOPT_ASSIGN_OR_RETURN(r.exec, Executor::Create(*g, eo));
  return r;
}

// Calibration files hold float32 (.bin) data. A model input of an integer or bool type (token
// ids, attention masks, sample rates) is fed the same values cast exactly: every value must be
// a whole number within the type's range (bool: 0 or 1); float32 holds every integer up to 2^24.
Status CastFeedsToInputTypes(const Graph& graph, std::map<std::string, Tensor>* feeds) {
  for (int id : graph.inputs) {
    const Value& v = graph.value(id);
    auto it = feeds->find(v.name);
    if (it == feeds->end() || it->second.dtype() != DType::kFloat32) continue;
    if (!IsInteger(v.dtype) && v.dtype != DType::kBool) continue;
    auto cast = CastExactly(it->second, v.dtype);
    if (!cast.ok()) {
      return InvalidArgument("calibration input '" + v.name + "' is " + DTypeName(v.dtype) +
                             " in the model, but its data holds a " + cast.status().message() +
                             " (integer inputs take whole numbers in their type's range)");
    }
    it->second = std::move(*cast);
  }
  return Status::Ok();
}

}  // namespace

StatusOr<CalibrationResult> Calibrate(const Graph& graph, const std::vector<std::string>& tensors,
                                      CalibrationStream& stream, const CalibratorOptions& o) {
  std::vector<int> ids;
  for (const std::string& t : tensors) {
    int id = graph.FindValue(t);
    if (id < 0) return Internal("calibration: no tensor '" + t + "' in the graph");
    ids.push_back(id);
  }
  ExecutorOptions eo;
  eo.num_threads = o.num_threads;
  std::map<int64_t, Runner> runners;  // by batch size
  std::unique_ptr<HistogramObserver> observer;

  int64_t total = stream.num_samples();
  if (o.max_samples > 0 && o.max_samples < total) total = o.max_samples;
  Progress progress("calibrating", total);
  if (!o.progress) progress.set_tty(false);
  CalibrationResult res;
  std::map<std::string, Tensor> feeds, outputs;
  std::set<std::string> whole;
  for (const auto& src : stream.sources())
    if (src->whole_samples()) whole.insert(src->input_name());
  while (res.samples < total) {
    int64_t drawn_before = stream.samples_drawn();
    DOPT_ASSIGN_OR_RETURN(bool more, stream.NextBatch(&feeds));
    if (!more) break;
    int64_t b = stream.samples_drawn() - drawn_before;
    if (res.samples + b > total) {
      b = total - res.samples;
      for (auto& kv : feeds)
        if (!whole.count(kv.first)) kv.second = Prefix(kv.second, b);
    }
    auto it = runners.find(b);
    if (it == runners.end()) {
      DOPT_ASSIGN_OR_RETURN(Runner r, MakeRunner(graph, b, whole, eo));
      it = runners.emplace(b, std::move(r)).first;
    }
    // One observer for every runner: value ids are the same in the copies.
    if (!observer) observer = std::make_unique<HistogramObserver>(ids, o.num_bins, it->second.exec->pool());
    outputs.clear();
    Status st = CastFeedsToInputTypes(graph, &feeds);
    if (st.ok()) st = it->second.exec->Run(feeds, &outputs, observer.get());
    if (!st.ok()) return st.WithContext("calibration batch " + std::to_string(res.batches + 1));
    res.samples += b;
    ++res.batches;
    if (o.progress) progress.Update(res.samples);
  }
  if (o.progress) progress.Finish();
  res.skipped = stream.samples_skipped();
  if (res.samples == 0) return InvalidArgument("calibration: the calibration data yielded no usable sample");
  for (int id : ids) {
    const Histogram* h = observer->Find(id);
    if (!h || h->empty()) continue;
    const std::string& name = graph.value(id).name;
    res.ranges[name] = ComputeRange(*h, o.method, o.range);
    res.minmax[name] = {h->min(), h->max()};
  }
  return res;
}

}  // namespace dopt
