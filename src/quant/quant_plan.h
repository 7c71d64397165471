// The result of quantization, independent of any file format: which ops are quantized with
// which parameters, and which were left in float and why. The QDQ exporter, the compress_conf
// writer/reader and the int8 simulation all work from this.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "passes/smooth_activations.h"

namespace dopt {

// real = scale * (q - zero_point); per-tensor when axis < 0 (one scale / zero point),
// per-channel along `axis` otherwise.
struct TensorQuant {
  std::string tensor;                // the tensor's name in the (rewritten) float graph
  int bits = 8;                      // 8 or 16 for activations, 8 for weights, 32 for biases
  bool symmetric = false;
  int axis = -1;
  std::vector<float> scales;
  std::vector<int32_t> zero_points;
  float range_min = 0, range_max = 0;  // calibrated float range (activations only)
};

struct QuantizedOp {
  std::string node;     // node name
  std::string op_type;  // a weighted op (QuantTraits, ops/op.h): Conv, ConvTranspose, Gemm, MatMul
  TensorQuant input;    // the activation input (QuantTraits::activation_input, or the other operand)
  TensorQuant weight;   // the constant operand (or, with weight_is_activation, the second activation)
  bool has_bias = false;
  TensorQuant bias;     // int32, scale = input scale x weight scale, zero point 0
  int weight_input_index = 1;
  // Both operands are activations (attention's MatMuls): `weight` is the second activation,
  // per tensor, asymmetric like `input`; no bias.
  bool weight_is_activation = false;
  // A second constant weight (LSTM/GRU/RNN's R), int8 per channel like `weight`.
  bool has_weight2 = false;
  TensorQuant weight2;
  int weight2_input_index = -1;
  // x86_saturation_safe: the weights' largest |q| (64); 0: the full int8 range.
  int weight_limit = 0;
  // bias_correction: added per output channel to the op's float bias before it is quantized
  // (ApplyBiasCorrections); empty: none.
  std::vector<float> bias_correction;
  // quantize_op_type: an op without weights (LayerNormalization, Softmax, Gelu ...) whose input
  // 0 (`input`) alone is quantized; `weight` is empty, no bias.
  bool activation_only = false;
};

// An op kept above the strategy's precision: int16 activations or float.
struct RaisedOp {
  std::string node;
  std::string op_type;
  std::string precision;  // "int16" or "float"
  std::string reason;
};

struct ExcludedOp {
  std::string node;
  std::string op_type;
  std::string reason;  // "exclude_op in the config", "weight 'w' is computed by node 'n' (Mul) from the graph input 'x'", ...
};

struct QuantPlan {
  std::string tool_version;
  std::string strategy;      // "Quant_INT8-8" or "Quant_INT16-8"
  int framework = 5;         // the original tool's --framework number
  std::string source_model;  // file name of the float model
  std::string source_sha256;
  std::string calibration_method;
  int calibration_samples = 0;
  int activation_bits = 8;
  int weight_bits = 8;
  bool per_channel = true;
  bool symmetric_activations = false;
  std::vector<QuantizedOp> ops;
  std::vector<ExcludedOp> excluded;
  // Accuracy options (recorded in the compress_conf; the int8 simulation repeats them).
  bool equalization = false;
  bool bias_correction = false;
  std::string x86_saturation_safe = "NONE";
  float accuracy_target = 0;     // 0: none asked
  float accuracy_achieved = 0;   // output cosine measured (0: not measured)
  std::vector<RaisedOp> raised;
  // smooth_quant_alpha: activations divided per channel before the ops that read them, their
  // weights multiplied (SmoothActivationsPass, applied after PrepareForQuantization). The
  // plan's tensor names and weight scales are those of the smoothed graph.
  float smooth_quant_alpha = -1;  // < 0: off
  std::vector<ActivationSmoothing> smoothing;
};

}  // namespace dopt
