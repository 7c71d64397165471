#include "kernels/epilogue.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/kernel_options.h"
#include "kernels/clones.h"
#include "kernels/vmath.h"

namespace dopt {
namespace kernels {

namespace {

constexpr int64_t kBlock = 512;  // elements per pass: the value and the root stay in L1

template <typename F>
inline void Each(float* v, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) v[i] = f(v[i]);
}

// v[i] = f(v[i], c[i]) with per-element constants cs (channels-last rows), else with c.
template <typename F>
inline void EachC(float* v, int64_t n, const float* cs, float c, F f) {
  if (cs) {
    for (int64_t i = 0; i < n; ++i) v[i] = f(v[i], cs[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) v[i] = f(v[i], c);
  }
}

}  // namespace

bool IsSiluAt(const std::vector<EpilogueStep>& steps, size_t k) {
  return k + 2 < steps.size() && steps[k].op == EpilogueStep::kSave && steps[k + 1].op == EpilogueStep::kSigmoid &&
         steps[k + 2].op == EpilogueStep::kMulSaved;
}

namespace {

// Whether a step from `from` on reads the saved value.
bool ReadsSavedAfter(const std::vector<EpilogueStep>& steps, size_t from) {
  for (size_t k = from; k < steps.size(); ++k) {
    if (steps[k].op == EpilogueStep::kSave) return false;  // a new value is saved first
    if (steps[k].op == EpilogueStep::kAddSaved || steps[k].op == EpilogueStep::kMulSaved) return true;
  }
  return false;
}

// v[0, n): all of channel `channel` (channels-first), or channels [channel, channel + n) of one
// pixel (`row`, channels-last).
DOPT_KERNEL_CLONES
void RunBlock(const std::vector<EpilogueStep>& steps, float* v, float* r, int64_t n, int64_t channel, bool row) {
  const size_t count = steps.size();
  for (size_t k = 0; k < count; ++k) {
    const EpilogueStep& s = steps[k];
    // SiLU, [Save, Sigmoid, MulSaved] with no later step reading the saved value: one pass of
    // SiluArray (the same bits: sigmoid(v) * v).
    if (IsSiluAt(steps, k) && !ReferenceKernelsForced() && !ReadsSavedAfter(steps, k + 3)) {
      SiluArray(v, v, n);
      k += 2;
      continue;
    }
    const bool per_element = row && !s.channel_c.empty();
    const float* cs = per_element ? s.channel_c.data() + channel : nullptr;
    const float c = per_element ? 0.f : s.C(channel), a = s.a, b = s.b;
    switch (s.op) {
      case EpilogueStep::kAdd: EachC(v, n, cs, c, [](float x, float k) { return x + k; }); break;
      case EpilogueStep::kSub: EachC(v, n, cs, c, [](float x, float k) { return x - k; }); break;
      case EpilogueStep::kSubFrom: EachC(v, n, cs, c, [](float x, float k) { return k - x; }); break;
      case EpilogueStep::kMul: EachC(v, n, cs, c, [](float x, float k) { return x * k; }); break;
      case EpilogueStep::kDiv: EachC(v, n, cs, c, [](float x, float k) { return x / k; }); break;
      case EpilogueStep::kDivInto: EachC(v, n, cs, c, [](float x, float k) { return k / x; }); break;
      case EpilogueStep::kSave:
        std::memcpy(r, v, (size_t)n * sizeof(float));
        break;
      case EpilogueStep::kAddSaved:
        for (int64_t i = 0; i < n; ++i) v[i] = v[i] + r[i];
        break;
      case EpilogueStep::kMulSaved:
        for (int64_t i = 0; i < n; ++i) v[i] = v[i] * r[i];
        break;
      case EpilogueStep::kRelu: Each(v, n, [](float x) { return x > 0.f ? x : 0.f; }); break;
      case EpilogueStep::kLeakyRelu: Each(v, n, [a](float x) { return x < 0.f ? a * x : x; }); break;
      case EpilogueStep::kClip:
        Each(v, n, [a, b](float x) {
          x = x < a ? a : x;
          return x > b ? b : x;
        });
        break;
      case EpilogueStep::kSigmoid:  // as ops/sigmoid.cc
        if (ReferenceKernelsForced()) Each(v, n, SigmoidReference);
        else SigmoidArray(v, v, n);
        break;
      case EpilogueStep::kHardSigmoid:
        Each(v, n, [a, b](float x) {
          float t = a * x + b;
          t = t < 0.f ? 0.f : t;
          return t > 1.f ? 1.f : t;
        });
        break;
      case EpilogueStep::kHardSwish:
        Each(v, n, [](float x) {
          float g = x / 6.f + 0.5f;
          g = g < 0.f ? 0.f : g;
          g = g > 1.f ? 1.f : g;
          return x * g;
        });
        break;
      case EpilogueStep::kTanh:  // as ops/tanh.cc
        if (ReferenceKernelsForced()) Each(v, n, [](float x) { return std::tanh(x); });
        else TanhArray(v, v, n);
        break;
      case EpilogueStep::kGelu:  // as ops/gelu.cc
        if (ReferenceKernelsForced()) {
          if (a != 0.f) Each(v, n, GeluTanhReference);
          else Each(v, n, GeluErfReference);
        } else if (a != 0.f) {
          GeluTanhArray(v, v, n);
        } else {
          GeluErfArray(v, v, n);
        }
        break;
      case EpilogueStep::kNumOps: break;
    }
  }
}

}  // namespace

void ApplyEpilogue(const std::vector<EpilogueStep>& steps, float* y, int64_t n, int64_t channel) {
  if (steps.empty()) return;
  float r[kBlock];
  for (int64_t i = 0; i < n; i += kBlock) {
    const int64_t m = std::min(kBlock, n - i);
    RunBlock(steps, y + i, r, m, channel, false);
  }
}

namespace {

// Whether any step has per-channel constants (else a step's value does not depend on the channel).
bool HasChannelConstants(const std::vector<EpilogueStep>& steps) {
  for (const EpilogueStep& s : steps)
    if (!s.channel_c.empty()) return true;
  return false;
}

}  // namespace

void ApplyEpilogueRows(const std::vector<EpilogueStep>& steps, float* y, int64_t rows, int64_t n, int64_t ld,
                       int64_t first_channel) {
  if (steps.empty() || rows <= 0) return;
  if (!HasChannelConstants(steps) && ld == n) {
    ApplyEpilogue(steps, y, rows * n, first_channel);
    return;
  }
  for (int64_t r = 0; r < rows; ++r) ApplyEpilogue(steps, y + r * ld, n, first_channel + r);
}

void ApplyEpilogueChannelsLast(const std::vector<EpilogueStep>& steps, float* y, int64_t pixels, int64_t channels,
                               int64_t first_channel) {
  if (steps.empty()) return;
  if (!HasChannelConstants(steps)) {  // the channel does not matter: one array
    ApplyEpilogue(steps, y, pixels * channels, first_channel);
    return;
  }
  float r[kBlock];
  for (int64_t p = 0; p < pixels; ++p) {
    float* row = y + p * channels;
    for (int64_t c0 = 0; c0 < channels; c0 += kBlock) RunBlock(steps, row + c0, r, std::min(kBlock, channels - c0), first_channel + c0, true);
  }
}

}  // namespace kernels
}  // namespace dopt
