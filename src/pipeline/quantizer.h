// The quantization pipeline for `dopt -m 0`: flags and config -> float graph -> passes
// (cut, fold BatchNormalization, mark quantizable, exclusions) -> calibration -> params ->
// QDQ ONNX model + compress_conf. The CLI only parses flags and prints the summary.
#pragma once

#include <string>
#include <vector>

#include "data/model_binding.h"
#include "dopt/status.h"
#include "passes/pass.h"
#include "pipeline/analysis.h"
#include "quant/quant_plan.h"

namespace dopt {

inline constexpr const char* kToolVersion = "0.1.0";

struct QuantizeOptions {
  std::string model;          // --model
  int framework = 0;          // --framework (0: from the file name)
  std::string cal_conf;       // --cal_conf
  std::string weight;         // --weight: PyTorch weights for a .py model
  std::string model_class;    // --model_class: the module to take from a .py (extension flag)
  std::string output;         // --output: the quantized model, in the input's format
  std::string compress_conf;  // --compress_conf: may be empty (then not written)
  CalibFlags flags;           // --input_shape, --input_format, --out_nodes
  int num_threads = 0;        // <= 0: all cores
  bool progress = true;
  std::string report;         // --report: the HTML report to write ("" : none)
  // `dopt analyze`: make the plan (or read --compress_conf when it names an existing file) and
  // analyse it layer by layer; nothing is written but the report.
  bool analyze_only = false;
};

struct QuantizeSummary {
  QuantPlan plan;
  std::vector<PassReport> passes;
  int64_t samples_skipped = 0;
  int64_t batches = 0;
  int source_opset = 0;    // default-domain opset of the input model
  int output_opset = 0;    // of the written model (ONNX)
  std::string output_format;  // "ONNX", "TensorFlow GraphDef", "TorchScript"
  double calibration_seconds = 0, total_seconds = 0;
  std::string output, compress_conf;  // absolute paths written ("" when not written)
  // Op types of the nodes that were already quantized (QLinearConv, MatMulInteger, ...), kept
  // as they are; one entry per node.
  std::vector<std::string> already_quantized;
  // The layer-wise analysis (`dopt analyze`, --report); empty layers when not run.
  AnalysisReport analysis;
  std::string report;                 // absolute path of the HTML report written ("" : none)
  int64_t held_out_samples = 0;       // samples kept aside from calibration for accuracy_target / bias_correction
  double cosine_before_raising = 0;   // accuracy_target: output cosine before any op was raised
};

// Runs the whole pipeline. Nothing is written unless every step succeeds; the input model is
// never overwritten.
StatusOr<QuantizeSummary> QuantizeModel(const QuantizeOptions& options);

}  // namespace dopt
