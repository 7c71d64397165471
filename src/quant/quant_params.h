// Quantization parameters of weights, biases and activations: pure functions from tensors
// and calibrated ranges to TensorQuant (real = scale * (q - zero_point)).
#pragma once

#include <string>

#include "calib/range_methods.h"
#include "dopt/status.h"
#include "ir/tensor.h"
#include "quant/quant_plan.h"

namespace dopt {

// Symmetric weight quantization (zero point 0, q in [-(2^(bits-1) - 1), 2^(bits-1) - 1]):
// scale = max|w| / qmax per slice along `axis` (per_channel and axis >= 0), else one scale for
// the whole tensor. A slice (or tensor) whose values are all zero gets scale 1. Non-finite
// weights are an error naming the tensor. `limit` > 0 replaces qmax (x86_saturation_safe: 64, so
// q is in [-64, 64] and scale = max|w| / 64).
StatusOr<TensorQuant> WeightQuant(const std::string& name, const Tensor& w, int axis, bool per_channel, int bits = 8,
                                  int limit = 0);

// Activation parameters of a calibrated range: asymmetric by default (the full integer range
// spans [lo, hi], zero exactly representable), symmetric (zero point 0) when asked.
TensorQuant ActivationQuant(const std::string& name, FloatRange r, int bits, bool symmetric);

// int32 bias: scale = input scale x weight scale (per output channel when the weight is per
// channel), zero point 0. `channels` is the bias length; a per-channel weight with fewer
// scales (grouped ConvTranspose: Cout/group) repeats them group by group.
StatusOr<TensorQuant> BiasQuant(const std::string& name, const TensorQuant& input, const TensorQuant& weight,
                                int64_t channels);

// Quantizes a value with the params of `q` at channel `c` (round half to even, clamped):
// the integer the QDQ model holds. For tests and the simulation.
int32_t QuantizeValue(float x, const TensorQuant& q, int c);

}  // namespace dopt
