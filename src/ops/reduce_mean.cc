// ReduceMean: mean over `axes` (attribute before opset 18, input 1 from 18; none = all dims
// unless noop_with_empty_axes=1), keepdims (default 1). Float only; sums in double, one
// output element per task, so results do not depend on the thread count. An empty reduction
// gives NaN.
#include <cmath>

#include "ops/reduce_common.h"

namespace dopt {
namespace {
struct MeanAcc {
  static double Init() { return 0; }
  static double Add(double a, float x) { return a + x; }
  static float Done(double a, int64_t count) { return count > 0 ? (float)(a / (double)count) : std::nanf(""); }
};
}  // namespace

const OpDef& OpDef_ReduceMean() {
  static const OpDef def{"ReduceMean", 1, 2, 1, 1, reduce_common::Infer, reduce_common::Run<MeanAcc>};
  return def;
}

}  // namespace dopt
