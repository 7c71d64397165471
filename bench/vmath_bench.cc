// Micro-benchmark of kernels/vmath.h: ns per element of each array function against the scalar
// std:: loop the ops ran before (and still run with DOPT_REFERENCE_KERNELS=1), one thread, on
// 1M floats uniform in [-8, 8] (4 MiB each way, the size of a YOLO activation), or as many as
// the second argument says (8192: in L1/L2, the compute cost alone).
//
// Build: cmake -S . -B build -DDOPT_BUILD_BENCH=ON && ninja -C build vmath_bench
// Run:   ./build/bench/vmath_bench [repeat] [elements]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "kernels/vmath.h"

namespace {

using ArrayFn = void (*)(const float*, float*, int64_t);

void StdExp(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
}
void StdSilu(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] / (1.f + std::exp(-x[i]));
}

void StdSigmoid(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    if (v >= 0.f) {
      y[i] = 1.f / (1.f + std::exp(-v));
    } else {
      const float e = std::exp(v);
      y[i] = e / (1.f + e);
    }
  }
}
void StdTanh(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}
void StdErf(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::erf(x[i]);
}
void StdGeluErf(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = 0.5f * x[i] * (1.f + std::erf(x[i] * 0.7071067811865476f));
}
void StdGeluTanh(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    y[i] = 0.5f * v * (1.f + std::tanh(0.7978845608028654f * (v + 0.044715f * v * v * v)));
  }
}

double NsPerElement(ArrayFn fn, const std::vector<float>& x, std::vector<float>& y, int repeat) {
  double best = 1e30;
  for (int r = 0; r < repeat; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    fn(x.data(), y.data(), (int64_t)x.size());
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double, std::nano>(t1 - t0).count());
  }
  return best / (double)x.size();
}

}  // namespace

int main(int argc, char** argv) {
  const int repeat = argc > 1 ? std::atoi(argv[1]) : 20;
  const int64_t n = argc > 2 ? std::atoll(argv[2]) : int64_t{1} << 20;
  std::vector<float> x(n), y(n);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-8.f, 8.f);
  for (float& v : x) v = dist(rng);
  struct Row {
    const char* name;
    ArrayFn scalar, vec;
  };
  const Row rows[] = {
      {"exp", StdExp, dopt::kernels::ExpArray},
      {"sigmoid", StdSigmoid, dopt::kernels::SigmoidArray},
      {"silu", StdSilu, dopt::kernels::SiluArray},
      {"tanh", StdTanh, dopt::kernels::TanhArray},
      {"erf", StdErf, dopt::kernels::ErfArray},
      {"gelu_erf", StdGeluErf, dopt::kernels::GeluErfArray},
      {"gelu_tanh", StdGeluTanh, dopt::kernels::GeluTanhArray},
  };
  std::printf("%-10s %12s %12s %8s   (ns/element, %lld elements, best of %d)\n", "function", "std scalar", "vmath",
              "speedup", (long long)n, repeat);
  for (const Row& r : rows) {
    const double s = NsPerElement(r.scalar, x, y, repeat);
    const double v = NsPerElement(r.vec, x, y, repeat);
    std::printf("%-10s %12.3f %12.3f %7.1fx\n", r.name, s, v, s / v);
  }
  return 0;
}
