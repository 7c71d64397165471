// ReduceL2: square root of the sum of squares; 0 over an empty set. Over `axes` (attribute before
// opset 18, input 1 from 18), keepdims, noop_with_empty_axes. Float only; accumulates in double,
// one output element per task (reduce_common.h).
#include <cmath>

#include "ops/reduce_common.h"

namespace dopt {
namespace {
struct Acc {
  static double Init() { return 0; }
  static double Add(double a, float x) { return a + (double)x * x; }
  static float Done(double a, int64_t) { return (float)std::sqrt(a); }
};
}  // namespace

const OpDef& OpDef_ReduceL2() {
  static const OpDef def{
      .name = "ReduceL2",
      .min_inputs = 1,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = reduce_common::Infer<>,
      .run = reduce_common::Run<Acc>,
      .upgrade = UpgradeBy(reduce_common::UpgradeAxes<18>).Since(1),  // 11: negative axes; 13: types; 18: axes input
      .quant = NoQuantRole()  // norms leave the input range,
  };
  return def;
}

}  // namespace dopt
