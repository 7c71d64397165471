#include "common/run_limits.h"

#include <atomic>

#include "common/limits.h"

namespace dopt {

namespace {
std::atomic<int64_t> g_loop_iterations{kMaxLoopIterations};
}  // namespace

int64_t LoopIterationLimit() { return g_loop_iterations.load(std::memory_order_relaxed); }
void SetLoopIterationLimit(int64_t n) { g_loop_iterations.store(n > 0 ? n : 1, std::memory_order_relaxed); }

}  // namespace dopt
