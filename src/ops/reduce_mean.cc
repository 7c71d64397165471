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
  static const OpDef def{
      .name = "ReduceMean",
      .min_inputs = 1,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = reduce_common::Infer<>,
      .run = reduce_common::Run<MeanAcc>,
      .upgrade = UpgradeBy(reduce_common::UpgradeAxes<18>).Since(1),  // 11: negative axes; 13: types; 18: axes input
      .quant = NoQuantRole(),  // means round: int8 in, int8 out is not exact
  };
  return def;
}

}  // namespace dopt
