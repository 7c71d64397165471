// The calibration driver: streams batches from a CalibrationStream through the executor with
// a HistogramObserver on the chosen tensors, then turns each histogram into a clipping range
// with the configured method. Only histograms are kept, never activations.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "calib/range_methods.h"
#include "data/calibration_stream.h"
#include "dopt/status.h"
#include "ir/graph.h"

namespace dopt {

struct CalibratorOptions {
  CalibMethod method = CalibMethod::kPercentile;
  RangeOptions range;        // percentile, quant levels, symmetric
  int num_bins = 2048;
  int64_t max_samples = 0;   // 0: every sample the stream offers
  int num_threads = 0;       // <= 0: all cores
  bool progress = true;      // progress bar (or lines) on stderr
};

struct CalibrationResult {
  std::map<std::string, FloatRange> ranges;  // per observed tensor name
  std::map<std::string, FloatRange> minmax;  // the observed min/max per tensor
  int64_t samples = 0, skipped = 0, batches = 0;
};

// `graph` must be prepared, its inputs shaped with the stream's batch size in dim 0 (a short
// last batch runs on a copy shaped for it). `tensors`: the float tensors to observe.
StatusOr<CalibrationResult> Calibrate(const Graph& graph, const std::vector<std::string>& tensors,
                                      CalibrationStream& stream, const CalibratorOptions& options);

// The largest |x| per channel (last axis) of each of `tensors` over the stream's samples (at
// most options.max_samples; method/range options unused), by tensor name: what activation
// smoothing (smooth_quant_alpha) needs.
StatusOr<std::map<std::string, std::vector<float>>> ChannelAbsMax(const Graph& graph,
                                                                  const std::vector<std::string>& tensors,
                                                                  CalibrationStream& stream,
                                                                  const CalibratorOptions& options);

}  // namespace dopt
