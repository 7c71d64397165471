// Micro-benchmark of calib/histogram.h: ns per element of Histogram::Add (one thread, 2048 bins)
// on the kinds of tensors calibration watches, at each instruction-set version this CPU has:
// ReLU outputs (half zeros, half |N(0, 1)|), signed activations (N(0, 1)) and image-like input
// (uniform in [-128, 128)), 400K floats each (a mid-sized conv activation, beyond L2).
//
// Build: cmake -S . -B build -DDOPT_BUILD_BENCH=ON && ninja -C build histogram_bench
// Run:   ./build/bench/histogram_bench [repeat]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "calib/histogram.h"

int main(int argc, char** argv) {
  const int repeat = argc > 1 ? std::atoi(argv[1]) : 200;
  const int64_t n = 400000;
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0, 1);
  std::uniform_real_distribution<float> ud(-128, 128);
  std::vector<float> relu(n), signed_(n), image(n);
  for (int64_t i = 0; i < n; ++i) {
    const float v = nd(rng);
    relu[i] = v > 0 ? v : 0.f;
    signed_[i] = nd(rng);
    image[i] = ud(rng);
  }
  const char* isa_names[] = {"sse2", "avx2", "avx512"};
  std::printf("%-8s %10s %10s %10s   (ns per element, median of %d)\n", "isa", "relu", "signed", "image", repeat);
  for (int isa = 0; isa <= 2; ++isa) {
    dopt::SetHistogramIsaForTesting(isa);
    std::printf("%-8s", isa_names[isa]);
    for (const std::vector<float>* x : {&relu, &signed_, &image}) {
      dopt::Histogram h(2048);
      h.Add(x->data(), n);  // R settles
      std::vector<double> ns;
      for (int r = 0; r < repeat; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        h.Add(x->data(), n);
        ns.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / n);
      }
      std::nth_element(ns.begin(), ns.begin() + ns.size() / 2, ns.end());
      std::printf(" %10.3f", ns[ns.size() / 2]);
    }
    std::printf("\n");
  }
  return 0;
}
