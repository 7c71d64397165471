// config.prototxt (the original tool's calibration config) as plain C++ structs.
// The protobuf types stay inside calib_config.cc; the rest of dopt uses CalibConfig.
#pragma once

#include <string>
#include <vector>

#include "dopt/status.h"

namespace dopt {

enum class CalibInputType { kImage, kBinary };
enum class ColorOrder { kBGR, kRGB };

const char* CalibInputTypeName(CalibInputType t);  // "IMAGE" / "BINARY"
const char* ColorOrderName(ColorOrder c);          // "BGR" / "RGB"

// One preprocess_parameter block: where one model input's calibration data lives and how
// IMAGE data is normalised.
struct PreprocessSpec {
  CalibInputType input_type = CalibInputType::kImage;
  ColorOrder image_format = ColorOrder::kBGR;
  std::string input_file_path;  // as written in the config
  std::string resolved_path;    // absolute (relative paths resolve against the config's folder)
  std::vector<float> mean_value;          // empty: 0 for every channel
  std::vector<float> standard_deviation;  // empty, one value, or one per channel; 0 = no division
};

// The calibration method used when the config does not set calibration_method (chosen by
// measurement, see docs/quantization.md).
inline constexpr const char* kDefaultCalibrationMethod = "mse";

struct CalibConfig {
  std::string config_path;  // absolute
  std::string strategy = "Quant_INT8-8";
  int activation_bits = 8;
  int weight_bits = 8;
  bool use_gpu = false;  // device: USE_GPU (dopt computes on the CPU either way)
  std::vector<PreprocessSpec> inputs;
  std::vector<std::string> exclude_ops;  // split on ';', trimmed, de-duplicated, in order

  // dopt extensions (config fields >= 100; the original tool's configs set none of them).
  std::string calibration_method = kDefaultCalibrationMethod;  // minmax | kl | percentile | mse
  float percentile = 99.99f;            // for "percentile", in (50, 100]
  bool per_channel = true;              // weights: one scale per output channel (else per tensor)
  bool symmetric_activations = false;   // activations: zero point 0 (else asymmetric with an offset)
  int64_t max_calibration_samples = 0;  // 0: every sample on offer
  bool quantize_activation_matmul = true;  // MatMul of two activations (attention): both int8 per tensor
  // Accuracy toolkit (docs/quantization.md).
  bool equalization = false;       // cross-layer equalization of Conv -> ReLU -> Conv chains
  bool bias_correction = false;    // correct each quantized op's output mean on calibration data
  std::string x86_saturation_safe = "NONE";  // NONE | FIRST_LAYER | ALL: int8 weights in [-64, 64]
  float accuracy_target = 0;       // output cosine to reach by raising layers; 0: off
  int64_t analysis_samples = 8;    // samples the analysis / accuracy_target compare on
  float smooth_quant_alpha = -1;   // SmoothQuant migration strength in [0, 1]; < 0: off
  std::vector<std::string> quantize_op_types;  // ops without weights whose input 0 is quantized too
  struct LayerPrecision {
    std::string op;       // node name, or
    std::string tensor;   // the ops reading this activation tensor
    std::string precision;  // "int8", "int16" or "float"
  };
  std::vector<LayerPrecision> layer_precision;
};

// The strategies dopt accepts ("Quant_INT8-8", "Quant_INT16-8").
const std::vector<std::string>& SupportedStrategies();

// Replaces `//` comments that are outside double- or single-quoted strings by spaces up to
// the end of the line (so line:column positions stay the same). `#` comments are left for
// TextFormat.
std::string StripLineComments(const std::string& text);

// Parses config text. `config_path` is used in messages and to resolve relative paths.
StatusOr<CalibConfig> ParseCalibConfig(const std::string& text, const std::string& config_path);
// Reads and parses a config file.
StatusOr<CalibConfig> LoadCalibConfig(const std::string& path);

// Absolute form of `path` (relative to the current folder), lexically normalised.
std::string AbsolutePath(const std::string& path);

}  // namespace dopt
