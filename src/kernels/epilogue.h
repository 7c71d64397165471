// Element-wise epilogues: a short program of element-wise steps that a Conv applies to each
// block of its output while the block is still in cache, instead of separate passes over the
// whole tensor by the element-wise ops that followed it in the graph (the executor's
// fuse_conv_epilogue pass builds the program; see src/passes/fuse_conv_epilogue.h).
//
// Every step computes exactly what the op it replaces computes for one element (same float
// operations in the same order), so a fused Conv gives the same bits as the unfused ops.
// A step reads the current value `v` and, for the *Saved steps, the value `r` that the last
// kSave step kept, e.g. SiLU = [Save, Sigmoid, MulSaved].
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dopt {
namespace kernels {

struct EpilogueStep {
  enum Op : int {
    kAdd,        // v + c
    kSub,        // v - c
    kSubFrom,    // c - v
    kMul,        // v * c
    kDiv,        // v / c
    kDivInto,    // c / v
    kSave,       // r = v
    kAddSaved,   // v + r
    kMulSaved,   // v * r
    kRelu,       // max(v, 0)
    kLeakyRelu,  // v < 0 ? a * v : v
    kClip,       // min(max(v, a), b) (a, b may be infinite)
    kSigmoid,    // 1 / (1 + exp(-v))
    kHardSigmoid,  // min(max(a * v + b, 0), 1)
    kHardSwish,  // v * min(max(v / 6 + 0.5, 0), 1)
    kTanh,
    kGelu,       // a == 0: 0.5 v (1 + erf(v / sqrt(2))); a == 1: the tanh approximation
    kNumOps
  };
  Op op = kAdd;
  float a = 0.f, b = 0.f;  // kLeakyRelu: a; kClip: [a, b]; kHardSigmoid: a, b; kGelu: a
  // Constant operand c of the binary steps: one value for every channel (channel_c empty, c = a)
  // or one per output channel.
  std::vector<float> channel_c;

  float C(int64_t channel) const { return channel_c.empty() ? a : channel_c[(size_t)channel]; }
};

// Whether steps [k, k + 3) are SiLU as the fuse pass writes it: [Save, Sigmoid, MulSaved].
bool IsSiluAt(const std::vector<EpilogueStep>& steps, size_t k);

// Applies `steps` in order to y[0, n), all elements of output channel `channel`.
void ApplyEpilogue(const std::vector<EpilogueStep>& steps, float* y, int64_t n, int64_t channel);

// Applies `steps` to `rows` rows of n elements (row r: y + r * ld, all of output channel
// first_channel + r). Steps without per-channel constants do not care where a channel ends: dense
// rows then go through as one array (fewer, longer calls to the vector kernels).
void ApplyEpilogueRows(const std::vector<EpilogueStep>& steps, float* y, int64_t rows, int64_t n, int64_t ld,
                       int64_t first_channel);

// Applies `steps` to y[pixels, channels] (channels-last): element (p, c) is of channel
// first_channel + c.
void ApplyEpilogueChannelsLast(const std::vector<EpilogueStep>& steps, float* y, int64_t pixels, int64_t channels,
                               int64_t first_channel = 0);

}  // namespace kernels
}  // namespace dopt
