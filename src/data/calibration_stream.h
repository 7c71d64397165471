// Draws the calibration inputs in lockstep and yields batches of feeds. Streaming: only one
// batch per input is in memory. Free of calibration logic (observers consume the feeds).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "data/model_binding.h"
#include "data/sample_source.h"

namespace dopt {

class CalibrationStream {
 public:
  // All sources must offer the same number of samples (else an error says which is short).
  // batch_size >= 1.
  static StatusOr<std::unique_ptr<CalibrationStream>> Create(std::vector<std::unique_ptr<SampleSource>> sources,
                                                              int64_t batch_size);

  // Samples on offer per input (an upper bound when images may fail to decode).
  int64_t num_samples() const { return num_samples_; }
  int64_t batch_size() const { return batch_size_; }
  const std::vector<std::unique_ptr<SampleSource>>& sources() const { return sources_; }

  // Fills `feeds` (input name -> float32 [b, sample shape...]) with the next batch; the last
  // batch may be short (b < batch_size). Returns false once every sample has been drawn. A
  // position where any input's sample is unusable is skipped for all inputs, so they stay
  // aligned. An input that ends before the others is an error naming it.
  StatusOr<bool> NextBatch(std::map<std::string, Tensor>* feeds);

  int64_t samples_drawn() const { return drawn_; }    // usable samples yielded so far
  int64_t samples_skipped() const { return skipped_; }
  Status Rewind();

 private:
  CalibrationStream() = default;
  std::vector<std::unique_ptr<SampleSource>> sources_;
  int64_t batch_size_ = 1, num_samples_ = 0, drawn_ = 0, skipped_ = 0, position_ = 0;
  bool done_ = false;
};

struct StreamOptions {
  int64_t batch_size = 0;  // 0: the batch dim of the first input's shape
  WarningFn warn = PrintWarning;
};

// Opens one source per input of a validated request and the lockstep stream over them.
StatusOr<std::unique_ptr<CalibrationStream>> OpenCalibrationStream(const CalibRequest& req,
                                                                  const StreamOptions& opts = {});
// The IMAGE preprocessing for one input of a request.
ImagePreprocess ImagePreprocessFor(const CalibInput& in, DataLayout layout);

}  // namespace dopt
