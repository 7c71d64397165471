// Calibration data, one model input at a time: a SampleSource yields preprocessed samples
// (one sample = the input's shape without its batch dim) straight into a caller's buffer, so
// nothing holds the whole calibration set. CalibrationStream (calibration_stream.h) draws
// several sources in lockstep and batches them.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/calib_config.h"
#include "dopt/status.h"
#include "ir/tensor.h"

namespace dopt {

// Receives non-fatal messages (skipped files, images that fail to decode).
using WarningFn = std::function<void(const std::string&)>;
// Prints "dopt: warning: <message>" to stderr.
void PrintWarning(const std::string& message);

enum class FetchResult { kSample, kSkipped, kEnd };

class SampleSource {
 public:
  virtual ~SampleSource() = default;
  // The model input this source feeds.
  virtual const std::string& input_name() const = 0;
  // Shape of one sample (the input's shape without the batch dim, in the model's layout; the
  // whole input's shape when whole_samples()).
  virtual const Shape& sample_shape() const = 0;
  // True when each sample is the input's whole tensor (a recurrent state [layers, batch,
  // hidden], a rank-0 sample rate): it is fed as it is, never stacked into a batch.
  virtual bool whole_samples() const { return false; }
  // Samples on offer. For image folders: image files found (one that fails to decode is
  // skipped when it is reached).
  virtual int64_t num_samples() const = 0;
  // Writes the next sample (NumElements(sample_shape()) floats) to `dst`. kSkipped: this
  // position holds no usable sample (a warning was given); kEnd: no more samples.
  virtual StatusOr<FetchResult> Next(float* dst) = 0;
  // Back to the first sample.
  virtual Status Rewind() = 0;
  // "IMAGE folder /abs/path (12 images)" — for reports.
  virtual std::string Describe() const = 0;
};

// --- IMAGE ---

struct ImagePreprocess {
  int64_t channels = 3, height = 0, width = 0;
  bool nhwc = false;  // lay samples out as HWC (else CHW)
  ColorOrder order = ColorOrder::kBGR;
  std::vector<float> mean;  // empty or one per channel
  std::vector<float> std;   // empty, one, or one per channel; 0 = no division
};

// True for the image extensions the original tool lists (any letter case).
bool IsImageFileName(const std::string& name);

// Decodes `bytes` (a whole image file) as 3-channel BGR, converts to grey for 1 channel,
// resizes (bilinear), swaps to RGB if asked, applies (x - mean) / std, and writes CHW or HWC
// floats to dst. An undecodable image is an InvalidArgument naming `name`.
Status DecodeAndPreprocessImage(const std::string& bytes, const std::string& name, const ImagePreprocess& pp,
                                float* dst);

// A folder of images, sorted by file name. Other files and sub-folders are skipped with a
// warning; a folder without any image file is an error.
StatusOr<std::unique_ptr<SampleSource>> OpenImageFolderSource(const std::string& input_name, const std::string& folder,
                                                             const ImagePreprocess& pp, WarningFn warn = PrintWarning);

// --- BINARY ---

// A 610/510 .bin file, or a folder of .bin files (concatenated along N). The first dim of each
// file is its sample count, the rest must match `sample_shape` (model layout) — or, when the
// file's rank is the input's rank + 1, the whole `input_shape` (whole samples). 510 data is
// reordered to HWC when `nhwc`; 610 data never. Only headers are read up front.
StatusOr<std::unique_ptr<SampleSource>> OpenBinSource(const std::string& input_name, const std::string& path,
                                                     const Shape& input_shape, bool nhwc, WarningFn warn = PrintWarning);

}  // namespace dopt
