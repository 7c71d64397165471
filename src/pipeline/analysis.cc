#include "pipeline/analysis.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <unordered_map>

#include "calib/batch_runner.h"
#include "frontends/onnx/qdq_writer.h"
#include "ir/graph_edit.h"
#include "ops/op.h"
#include "quant/bias_correction.h"
#include "quant/saturation.h"

namespace dopt {

namespace {

constexpr size_t kValueSamplesPerTensor = 8192;

// Keeps copies of chosen values, by name.
class CaptureObserver : public Observer {
 public:
  CaptureObserver(const Graph& g, const std::vector<std::string>& names) {
    for (const std::string& n : names) {
      int id = g.FindValue(n);
      if (id >= 0) wanted_[id] = n;
    }
  }
  void OnValue(const Graph&, int value_id, const Tensor& t) override {
    auto it = wanted_.find(value_id);
    if (it == wanted_.end() || !IsFloat(t.dtype())) return;
    got_[it->second] = t.dtype() == DType::kFloat32 ? t.Clone() : t.CastTo(DType::kFloat32);
  }
  std::map<std::string, Tensor>& got() { return got_; }

 private:
  std::unordered_map<int, std::string> wanted_;
  std::map<std::string, Tensor> got_;
};

// The executor options of an analysis run: the fused graph (exact fusions only, so every value
// keeps its bits) with the captured tensors kept visible.
ExecutorOptions AnalysisExecutorOptions(const Graph& g, const std::vector<std::string>& names, int threads) {
  std::vector<int> visible;
  for (const std::string& n : names) {
    const int id = g.FindValue(n);
    if (id >= 0) visible.push_back(id);
  }
  return ExecutorOptions::Observing(threads, std::move(visible));
}

void Accumulate(const Tensor& f, const Tensor& q, ErrorSums* e) {
  if (f.numel() != q.numel() || f.dtype() != DType::kFloat32 || q.dtype() != DType::kFloat32) return;
  const float* a = f.data<float>();
  const float* b = q.data<float>();
  double ff = 0, ee = 0, fq = 0, qq = 0;
  for (int64_t i = 0; i < f.numel(); ++i) {
    if (!std::isfinite(a[i])) continue;
    const double x = a[i], y = std::isfinite(b[i]) ? b[i] : 0.0, d = x - y;
    ff += x * x;
    ee += d * d;
    fq += x * y;
    qq += y * y;
  }
  e->ff += ff;
  e->ee += ee;
  e->fq += fq;
  e->qq += qq;
  e->count += f.numel();
}

}  // namespace

double ErrorSums::SqnrDb() const {
  if (ee <= 0) return kMaxSqnrDb;
  if (ff <= 0) return -kMaxSqnrDb;
  return std::min(kMaxSqnrDb, std::max(-kMaxSqnrDb, 10.0 * std::log10(ff / ee)));
}

double ErrorSums::Cosine() const {
  if (ff <= 0 && qq <= 0) return 1.0;
  if (ff <= 0 || qq <= 0) return 0.0;
  return fq / std::sqrt(ff * qq);
}

StatusOr<AnalysisSamples> TakeSamples(CalibrationStream& stream, int64_t n) {
  AnalysisSamples s;
  for (const auto& src : stream.sources())
    if (src->whole_samples()) s.whole.insert(src->input_name());
  while (s.count < n) {
    std::map<std::string, Tensor> feeds;
    const int64_t before = stream.samples_drawn();
    DOPT_ASSIGN_OR_RETURN(bool more, stream.NextBatch(&feeds));
    if (!more) break;
    int64_t b = stream.samples_drawn() - before;
    if (s.count + b > n) {
      b = n - s.count;
      for (auto& kv : feeds)
        if (!s.whole.count(kv.first)) kv.second = FirstSamples(kv.second, b);
    }
    s.batches.emplace_back(b, std::move(feeds));
    s.count += b;
  }
  return s;
}

StatusOr<Graph> SimulationGraph(const Graph& prepared, const QuantPlan& plan) {
  Graph g = prepared;
  DOPT_RETURN_IF_ERROR(ApplyBiasCorrections(g, plan));
  QdqOptions qo;
  qo.check_opset = false;
  DOPT_RETURN_IF_ERROR(InsertQDQ(g, plan, qo));
  return g;
}

StatusOr<std::unique_ptr<PlanEvaluator>> PlanEvaluator::Create(const Graph& prepared, const AnalysisSamples& samples,
                                                               const std::vector<std::string>& tensors, int num_threads,
                                                               const std::vector<std::string>& histogram_tensors) {
  std::unique_ptr<PlanEvaluator> ev(new PlanEvaluator(prepared, samples));
  ev->threads_ = num_threads;
  for (int id : prepared.outputs)
    if (IsFloat(prepared.value(id).dtype)) ev->outputs_.push_back(prepared.value(id).name);
  std::vector<std::string> names = tensors;
  names.insert(names.end(), histogram_tensors.begin(), histogram_tensors.end());
  const std::set<std::string> keep(tensors.begin(), tensors.end());
  BatchRunner runner(prepared, samples.whole, AnalysisExecutorOptions(prepared, names, num_threads));
  for (const auto& [b, feeds0] : samples.batches) {
    std::map<std::string, Tensor> feeds = feeds0, outputs;
    CaptureObserver obs(prepared, names);
    DOPT_RETURN_IF_ERROR(runner.Run(b, &feeds, &outputs, &obs).WithContext("the float model on an analysis sample"));
    for (const std::string& o : ev->outputs_) {
      auto it = outputs.find(o);
      if (it != outputs.end()) obs.got()[o] = it->second.CastTo(DType::kFloat32);
    }
    // A strided subset of each value, for histograms.
    for (auto& [name, t] : obs.got()) {
      std::vector<float>& vs = ev->value_samples_[name];
      const size_t per_batch = kValueSamplesPerTensor / std::max<size_t>(1, samples.batches.size());
      const int64_t step = std::max<int64_t>(1, t.numel() / (int64_t)std::max<size_t>(1, per_batch));
      for (int64_t i = 0; i < t.numel(); i += step) vs.push_back(t.data<float>()[i]);
    }
    for (auto it = obs.got().begin(); it != obs.got().end();) {
      const bool output = std::find(ev->outputs_.begin(), ev->outputs_.end(), it->first) != ev->outputs_.end();
      it = keep.count(it->first) || output ? std::next(it) : obs.got().erase(it);
    }
    ev->reference_.push_back(std::move(obs.got()));
  }
  return ev;
}

Status PlanEvaluator::Simulate(const QuantPlan& plan, const std::vector<std::string>& tensors,
                               const std::function<void(size_t, std::map<std::string, Tensor>&,
                                                        std::map<std::string, Tensor>&)>& each) {
  DOPT_ASSIGN_OR_RETURN(Graph sim, SimulationGraph(graph_, plan));
  BatchRunner runner(sim, samples_.whole, AnalysisExecutorOptions(sim, tensors, threads_));
  for (size_t i = 0; i < samples_.batches.size(); ++i) {
    std::map<std::string, Tensor> feeds = samples_.batches[i].second, outputs;
    CaptureObserver obs(sim, tensors);
    DOPT_RETURN_IF_ERROR(runner.Run(samples_.batches[i].first, &feeds, &outputs, &obs)
                             .WithContext("the int8 simulation on an analysis sample"));
    each(i, obs.got(), outputs);
  }
  return Status::Ok();
}

StatusOr<std::map<std::string, ErrorSums>> PlanEvaluator::Compare(const QuantPlan& plan,
                                                                  const std::vector<std::string>& tensors) {
  std::map<std::string, ErrorSums> errors;
  DOPT_RETURN_IF_ERROR(Simulate(plan, tensors, [&](size_t i, std::map<std::string, Tensor>& got,
                                                   std::map<std::string, Tensor>& outputs) {
    const std::map<std::string, Tensor>& ref = reference_[i];
    for (const auto& [name, q] : got) {
      auto f = ref.find(name);
      if (f != ref.end()) Accumulate(f->second, q, &errors[name]);
    }
    for (const std::string& o : outputs_) {
      auto q = outputs.find(o);
      auto f = ref.find(o);
      if (q != outputs.end() && f != ref.end()) Accumulate(f->second, q->second.CastTo(DType::kFloat32), &errors[o]);
    }
  }));
  return errors;
}

StatusOr<std::map<std::string, std::vector<double>>> PlanEvaluator::ChannelMeanErrors(
    const QuantPlan& plan, const std::vector<std::pair<std::string, int>>& tensors) {
  std::vector<std::string> names;
  for (const auto& t : tensors) names.push_back(t.first);
  std::map<std::string, std::vector<double>> sums;
  std::map<std::string, std::vector<int64_t>> counts;
  DOPT_RETURN_IF_ERROR(Simulate(plan, names, [&](size_t i, std::map<std::string, Tensor>& got,
                                                 std::map<std::string, Tensor>&) {
    for (const auto& [tensor, axis] : tensors) {
      auto f = reference_[i].find(tensor);
      auto q = got.find(tensor);
      if (f == reference_[i].end() || q == got.end() || q->second.numel() != f->second.numel()) continue;
      const Tensor& ft = f->second;
      const int rank = ft.rank();
      const int ax = axis < 0 ? axis + rank : axis;
      if (ax < 0 || ax >= rank) continue;
      const int64_t channels = ft.dim(ax);
      int64_t inner = 1;
      for (int d = ax + 1; d < rank; ++d) inner *= ft.dim(d);
      std::vector<double>& sum = sums[tensor];
      std::vector<int64_t>& n = counts[tensor];
      if (sum.empty()) sum.assign((size_t)channels, 0.0), n.assign((size_t)channels, 0);
      if ((int64_t)sum.size() != channels) continue;
      const float* a = ft.data<float>();
      const float* b = q->second.data<float>();
      for (int64_t j = 0; j < ft.numel(); ++j) {
        if (!std::isfinite(a[j]) || !std::isfinite(b[j])) continue;
        const size_t c = (size_t)((j / inner) % channels);
        sum[c] += (double)b[j] - a[j];
        ++n[c];
      }
    }
  }));
  for (auto& [tensor, sum] : sums)
    for (size_t c = 0; c < sum.size(); ++c) sum[c] = counts[tensor][c] ? sum[c] / (double)counts[tensor][c] : 0.0;
  return sums;
}

double PlanEvaluator::OutputCosine(const std::map<std::string, ErrorSums>& errors,
                                   std::map<std::string, double>* per_output) const {
  double lowest = 1.0;
  for (const std::string& o : outputs_) {
    auto it = errors.find(o);
    if (it == errors.end()) continue;
    const double c = it->second.Cosine();
    if (per_output) (*per_output)[o] = c;
    lowest = std::min(lowest, c);
  }
  return lowest;
}

std::vector<std::string> AnalysisTensors(const Graph& prepared, const QuantPlan& plan) {
  std::vector<std::string> names;
  for (const QuantizedOp& op : plan.ops) {
    const Node* n = FindNode(prepared, op.node);
    if (!n || n->outputs.empty()) continue;
    names.push_back(prepared.value(n->outputs[0]).name);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::vector<std::string> HistogramTensors(const QuantPlan& plan) {
  std::vector<std::string> names;
  for (const QuantizedOp& op : plan.ops) {
    names.push_back(op.input.tensor);
    if (op.weight_is_activation) names.push_back(op.weight.tensor);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

StatusOr<AnalysisReport> AnalyzePlan(const Graph& prepared, const QuantPlan& plan, PlanEvaluator& ev,
                                     const AnalyzeOptions& options) {
  AnalysisReport r;
  r.model = plan.source_model;
  r.strategy = plan.strategy;
  r.calibration_method = plan.calibration_method;
  r.samples = plan.calibration_samples;
  r.raised = plan.raised;
  r.quantized_ops = (int)plan.ops.size();
  r.float_ops = (int)plan.excluded.size();
  if (plan.equalization) r.options.push_back("equalization: true");
  if (plan.bias_correction) r.options.push_back("bias_correction: true");
  if (!plan.x86_saturation_safe.empty() && plan.x86_saturation_safe != "NONE")
    r.options.push_back("x86_saturation_safe: " + plan.x86_saturation_safe);
  if (plan.accuracy_target > 0) r.options.push_back("accuracy_target: " + std::to_string(plan.accuracy_target));

  std::vector<std::string> out_tensors;
  for (const QuantizedOp& op : plan.ops) {
    const Node* n = FindNode(prepared, op.node);
    if (!n || n->outputs.empty()) return Internal("analysis: quantized op '" + op.node + "' is not in the graph");
    LayerAnalysis l;
    l.name = op.node;
    l.op_type = op.op_type;
    l.input_tensor = op.input.tensor;
    l.output_tensor = prepared.value(n->outputs[0]).name;
    l.activation_bits = op.input.bits;
    l.max_pair_sum = MaxPairSum(prepared, op);
    l.saturation_risk = l.max_pair_sum > kInt16Max;
    r.layers.push_back(l);
    out_tensors.push_back(l.output_tensor);
  }
  // Accumulated: the whole plan at once.
  DOPT_ASSIGN_OR_RETURN(auto all, ev.Compare(plan, out_tensors));
  r.output_cosine = ev.OutputCosine(all, &r.output_cosines);
  for (LayerAnalysis& l : r.layers) {
    const ErrorSums& e = all[l.output_tensor];
    l.sqnr_db_accumulated = e.SqnrDb();
    l.cosine_accumulated = e.Cosine();
    l.sqnr_db = l.sqnr_db_accumulated;
    l.cosine = l.cosine_accumulated;
  }
  // Isolated: one op at a time.
  if (options.isolated) {
    for (size_t i = 0; i < plan.ops.size(); ++i) {
      QuantPlan one = plan;
      one.ops = {plan.ops[i]};
      DOPT_ASSIGN_OR_RETURN(auto e, ev.Compare(one, {r.layers[i].output_tensor}));
      r.layers[i].sqnr_db = e[r.layers[i].output_tensor].SqnrDb();
      r.layers[i].cosine = e[r.layers[i].output_tensor].Cosine();
      r.layers[i].output_cosine = ev.OutputCosine(e);
    }
  }
  // Histograms of the activation inputs with their clipping ranges.
  const auto& vs = ev.value_samples();
  std::set<std::string> seen;
  for (const QuantizedOp& op : plan.ops) {
    if (!seen.insert(op.input.tensor).second) continue;
    auto it = vs.find(op.input.tensor);
    if (it == vs.end() || it->second.empty()) continue;
    ActivationHistogram h;
    h.tensor = op.input.tensor;
    h.min = std::numeric_limits<float>::max();
    h.max = std::numeric_limits<float>::lowest();
    for (float v : it->second)
      if (std::isfinite(v)) h.min = std::min(h.min, v), h.max = std::max(h.max, v);
    if (h.min > h.max) continue;
    h.clip_min = op.input.range_min;
    h.clip_max = op.input.range_max;
    const int bins = std::max(1, options.histogram_bins);
    h.counts.assign((size_t)bins, 0);
    const double width = h.max > h.min ? (double)h.max - h.min : 1.0;
    for (float v : it->second) {
      if (!std::isfinite(v)) continue;
      int b = (int)((v - h.min) / width * bins);
      ++h.counts[(size_t)std::min(bins - 1, std::max(0, b))];
    }
    r.activations.push_back(std::move(h));
  }
  // Per-channel weight ranges.
  for (const QuantizedOp& op : plan.ops) {
    if (op.weight_is_activation || op.activation_only) continue;
    const int id = prepared.FindValue(op.weight.tensor);
    const Tensor* w = id >= 0 ? prepared.value(id).ConstantValue() : nullptr;
    if (!w || !IsFloat(w->dtype())) continue;
    const Tensor wf = w->CastTo(DType::kFloat32);
    WeightRanges wr;
    wr.node = op.node;
    wr.tensor = op.weight.tensor;
    int64_t channels = 1, inner = wf.numel();
    if (op.weight.axis >= 0 && op.weight.axis < wf.rank()) {
      channels = wf.dim(op.weight.axis);
      inner = 1;
      for (int d = op.weight.axis + 1; d < wf.rank(); ++d) inner *= wf.dim(d);
    }
    wr.channel_min.assign((size_t)channels, std::numeric_limits<float>::max());
    wr.channel_max.assign((size_t)channels, std::numeric_limits<float>::lowest());
    for (int64_t i = 0; i < wf.numel(); ++i) {
      const size_t c = (size_t)((i / inner) % channels);
      const float v = wf.data<float>()[i];
      wr.channel_min[c] = std::min(wr.channel_min[c], v);
      wr.channel_max[c] = std::max(wr.channel_max[c], v);
    }
    r.weights.push_back(std::move(wr));
  }
  r.analysis_samples = ev.sample_count();
  return r;
}

}  // namespace dopt
