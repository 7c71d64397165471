// Limits on the work one run may do, settable at run time (common/limits.h holds the fixed
// ones). Process-wide: set them before running anything, e.g. in a fuzz harness.
#pragma once

#include <cstdint>

namespace dopt {

// Iterations one Loop node may run before it fails with an error naming it (a cond that never
// turns false, a huge trip count in a hostile model). Default kMaxLoopIterations (2^24).
int64_t LoopIterationLimit();
void SetLoopIterationLimit(int64_t n);

}  // namespace dopt
