// The result of quantization, independent of any file format: which ops are quantized with
// which parameters, and which were left in float and why. The QDQ exporter, the compress_conf
// writer/reader and the int8 simulation all work from this.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

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
};

}  // namespace dopt
