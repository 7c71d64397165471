// Function multiversioning for dopt's own hot loops. The build targets baseline x86-64
// (SSE2); DOPT_KERNEL_CLONES makes GCC also emit an AVX2 version of the function and pick one
// at load time from the CPU (OpenBLAS dispatches by itself). Results of the two versions may
// differ only where the compiler would contract or reorder, which these loops avoid.
#pragma once

// Not under ThreadSanitizer: the ifunc resolvers run during relocation, before the TSan
// runtime is initialised, and crash the instrumented binary at load time.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
#define DOPT_KERNEL_CLONES __attribute__((target_clones("avx2", "default")))
// With AVX-512 and AVX2 + FMA (x86-64-v3) versions as well, for the compute-bound kernels where
// they measurably pay (kernels/vmath.cc: AVX-512 1.5-2.7x, x86-64-v3 1.4x over plain AVX2). Both
// contract a * b + c to FMA, so their results may differ from the AVX2 / SSE2 ones in the last
// bit; each version gives the same bits for an element wherever it sits in the array. The
// resolver tries them in this order (AVX2 without FMA still gets the "avx2" version).
#define DOPT_KERNEL_CLONES_AVX512 __attribute__((target_clones("avx512f", "arch=x86-64-v3", "avx2", "default")))
#else
#define DOPT_KERNEL_CLONES
#define DOPT_KERNEL_CLONES_AVX512
#endif

namespace dopt {
namespace kernels {

// The widest vector ISA of this CPU, for the kernels that keep one function per ISA (with
// __attribute__((target(...))) and GCC's generic vectors sized to that ISA's registers: a generic
// vector wider than the registers is lowered element by element, so `target_clones` over one
// wide vector would be slow on AVX2): the histogram scan, the channels-last pooling rows,
// MaxArray. Read once.
enum class SimdIsa { kBase = 0, kAvx2 = 1, kAvx512 = 2 };
inline SimdIsa CpuSimdIsa() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  static const SimdIsa best = __builtin_cpu_supports("avx512f") ? SimdIsa::kAvx512
                              : __builtin_cpu_supports("avx2")  ? SimdIsa::kAvx2
                                                                : SimdIsa::kBase;
  return best;
#else
  return SimdIsa::kBase;
#endif
}

}  // namespace kernels
}  // namespace dopt
