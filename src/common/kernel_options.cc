#include "common/kernel_options.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace dopt {

namespace {

// -1: not read yet; 0 / 1: the setting.
std::atomic<int> g_forced{-1};

int FromEnvironment() {
  const char* e = std::getenv("DOPT_REFERENCE_KERNELS");
  return e && *e && std::strcmp(e, "0") != 0 ? 1 : 0;
}

}  // namespace

bool ReferenceKernelsForced() {
  int v = g_forced.load(std::memory_order_relaxed);
  if (v < 0) {
    int expected = -1;
    g_forced.compare_exchange_strong(expected, FromEnvironment(), std::memory_order_relaxed);
    v = g_forced.load(std::memory_order_relaxed);
  }
  return v == 1;
}

void SetReferenceKernelsForced(bool forced) { g_forced.store(forced ? 1 : 0, std::memory_order_relaxed); }

}  // namespace dopt
