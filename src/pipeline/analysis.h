// Layer-wise error analysis of a quantization plan (`dopt analyze`, `accuracy_target`, the
// HTML report): for each quantized op, the error it adds when only it is quantized (isolated)
// and at its output with every op before it quantized too (accumulated), measured against the
// float model on calibration samples. Format-free: it runs the prepared IR graph with the
// plan's Q/DQ pairs inserted (the same int8 simulation as `dopt run --compress_conf`).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <memory>
#include <set>

#include "data/calibration_stream.h"
#include "dopt/status.h"
#include "ir/graph.h"
#include "quant/quant_plan.h"

namespace dopt {

struct LayerAnalysis {
  std::string name;            // node name
  std::string op_type;
  std::string input_tensor;    // the activation input
  std::string output_tensor;   // the first output, where the error is measured
  int activation_bits = 8;     // of the plan (16 when raised to int16)
  // Signal-to-quantization-noise ratio in dB of the op's output, 10 log10(sum f^2 / sum (f-q)^2)
  // over the samples; capped at kMaxSqnrDb when the error is zero.
  double sqnr_db = 0;              // only this op quantized
  double sqnr_db_accumulated = 0;  // this op and every quantized op before it
  double cosine = 1;               // isolated
  double cosine_accumulated = 1;
  // The model's output cosine to float with only this op quantized: its share of the output
  // error (accuracy_target raises ops in this order, lowest first).
  double output_cosine = 1;
  // x86 u8 x s8 kernels without VNNI add two products in int16: the largest |a1 w1 + a2 w2|
  // (in integer units) this op's weights and calibrated input range allow, and whether it can
  // exceed 32767.
  int64_t max_pair_sum = 0;
  bool saturation_risk = false;
};

// One activation's float histogram over [min, max] (the observed range) with the calibrated
// clipping range (what the plan quantizes to).
struct ActivationHistogram {
  std::string tensor;
  float min = 0, max = 0;
  float clip_min = 0, clip_max = 0;
  std::vector<int64_t> counts;  // equal bins over [min, max]
};

// One weight's range per output channel (one entry when per tensor).
struct WeightRanges {
  std::string node;
  std::string tensor;
  std::vector<float> channel_min, channel_max;
};

struct AnalysisReport {
  std::string model;               // file name of the float model
  std::string strategy;            // "Quant_INT8-8", ...
  std::string calibration_method;
  int64_t samples = 0;             // calibration samples the plan was made from
  int64_t analysis_samples = 0;    // samples the analysis ran on
  // Cosine of the model's outputs, int8 simulation vs float, on the analysis samples: per
  // float output over all samples, and the lowest of them.
  double output_cosine = 1;
  std::map<std::string, double> output_cosines;
  std::vector<std::string> options;  // "equalization: true", "x86_saturation_safe: ALL", ...
  std::vector<LayerAnalysis> layers;  // in graph order
  std::vector<ActivationHistogram> activations;
  std::vector<WeightRanges> weights;
  std::vector<RaisedOp> raised;   // ops kept above the strategy's precision (quant_plan.h)
  int quantized_ops = 0, float_ops = 0;  // weighted ops int8/int16 vs left in float
};

inline constexpr double kMaxSqnrDb = 200.0;

// Samples held for the analysis, as the calibration stream batched them.
struct AnalysisSamples {
  std::vector<std::pair<int64_t, std::map<std::string, Tensor>>> batches;  // (samples, feeds)
  std::set<std::string> whole;  // inputs fed whole samples (no batch dim)
  int64_t count = 0;
};

// Draws up to `n` samples from the stream's current position.
StatusOr<AnalysisSamples> TakeSamples(CalibrationStream& stream, int64_t n);

// The int8 simulation of a plan: the prepared float graph with the plan's Q/DQ pairs (and its
// bias corrections) in place, as `dopt run --compress_conf` and the writers compute it.
StatusOr<Graph> SimulationGraph(const Graph& prepared, const QuantPlan& plan);

// Error of a simulated tensor against its float value, summed over samples.
struct ErrorSums {
  double ff = 0, ee = 0, fq = 0, qq = 0;  // sum f^2, (f-q)^2, f q, q^2
  int64_t count = 0;
  double SqnrDb() const;
  double Cosine() const;
};

// Runs the float graph once on the samples, keeps the values of `tensors` and of the float
// outputs, then compares any plan's simulation with them.
class PlanEvaluator {
 public:
  // `tensors`: compared later (kept whole); `histogram_tensors`: only sampled for histograms.
  static StatusOr<std::unique_ptr<PlanEvaluator>> Create(const Graph& prepared, const AnalysisSamples& samples,
                                                         const std::vector<std::string>& tensors, int num_threads,
                                                         const std::vector<std::string>& histogram_tensors = {});
  // Errors of `tensors` (a subset of those captured; empty: none) and of every float output.
  StatusOr<std::map<std::string, ErrorSums>> Compare(const QuantPlan& plan, const std::vector<std::string>& tensors);
  // The lowest output cosine among `errors`' float outputs (1 when the model has none).
  double OutputCosine(const std::map<std::string, ErrorSums>& errors, std::map<std::string, double>* per_output = nullptr) const;
  const std::vector<std::string>& output_names() const { return outputs_; }
  int64_t sample_count() const { return samples_.count; }
  // Per channel, the mean of (simulated - float) of each (tensor, channel axis) under `plan`
  // (one simulation run); tensors not captured are left out.
  StatusOr<std::map<std::string, std::vector<double>>> ChannelMeanErrors(
      const QuantPlan& plan, const std::vector<std::pair<std::string, int>>& tensors);
  // A few thousand float values of each captured tensor over the samples (for histograms).
  const std::map<std::string, std::vector<float>>& value_samples() const { return value_samples_; }

 private:
  PlanEvaluator(const Graph& g, const AnalysisSamples& s) : graph_(g), samples_(s) {}
  // Runs the simulation of `plan` on every batch; `each(batch, captured tensors, outputs)`.
  Status Simulate(const QuantPlan& plan, const std::vector<std::string>& tensors,
                  const std::function<void(size_t, std::map<std::string, Tensor>&, std::map<std::string, Tensor>&)>& each);
  const Graph& graph_;
  const AnalysisSamples& samples_;
  int threads_ = 0;
  std::vector<std::string> outputs_;  // float graph outputs
  // Per batch: captured tensor name -> float value.
  std::vector<std::map<std::string, Tensor>> reference_;
  std::map<std::string, std::vector<float>> value_samples_;
};

struct AnalyzeOptions {
  bool isolated = true;  // one simulation per quantized op (the costly part)
  int histogram_bins = 64;
};

// The layer-wise analysis of `plan` on the evaluator's samples (which must capture every
// plan op's first output and activation input).
StatusOr<AnalysisReport> AnalyzePlan(const Graph& prepared, const QuantPlan& plan, PlanEvaluator& evaluator,
                                     const AnalyzeOptions& options);
// The tensors an evaluator must capture for AnalyzePlan: the quantized ops' outputs (compared)
// and their activation inputs (histograms).
std::vector<std::string> AnalysisTensors(const Graph& prepared, const QuantPlan& plan);
std::vector<std::string> HistogramTensors(const QuantPlan& plan);

// `{"model": ..., "layers": [{"name", "op_type", "input_tensor", "sqnr_db",
// "sqnr_db_accumulated", "cosine", ...}], ...}` — layers sorted worst (lowest sqnr_db) first.
std::string AnalysisJson(const AnalysisReport& report);
// The text table of `dopt analyze`, worst first.
std::string AnalysisText(const AnalysisReport& report, int max_rows = 0);
// One self-contained HTML page (no external scripts, styles or fonts; plots as inline SVG).
std::string RenderReportHtml(const AnalysisReport& report);

}  // namespace dopt
