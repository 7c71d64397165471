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

DOPT_KERNEL_CLONES
void RunBlock(const std::vector<EpilogueStep>& steps, float* v, float* r, int64_t n, int64_t channel) {
  for (const EpilogueStep& s : steps) {
    const float c = s.C(channel), a = s.a, b = s.b;
    switch (s.op) {
      case EpilogueStep::kAdd: Each(v, n, [c](float x) { return x + c; }); break;
      case EpilogueStep::kSub: Each(v, n, [c](float x) { return x - c; }); break;
      case EpilogueStep::kSubFrom: Each(v, n, [c](float x) { return c - x; }); break;
      case EpilogueStep::kMul: Each(v, n, [c](float x) { return x * c; }); break;
      case EpilogueStep::kDiv: Each(v, n, [c](float x) { return x / c; }); break;
      case EpilogueStep::kDivInto: Each(v, n, [c](float x) { return c / x; }); break;
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
    RunBlock(steps, y + i, r, m, channel);
  }
}

}  // namespace kernels
}  // namespace dopt
