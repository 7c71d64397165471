// ReduceSum: sum over `axes` (attribute before opset 13, input 1 from 13), keepdims,
// noop_with_empty_axes; sums in double. Float only.
#include "ops/reduce_common.h"

namespace dopt {
namespace {
struct SumAcc {
  static double Init() { return 0; }
  static double Add(double a, float x) { return a + x; }
  static float Done(double a, int64_t) { return (float)a; }
};
}  // namespace

const OpDef& OpDef_ReduceSum() {
  static const OpDef def{"ReduceSum", 1, 2, 1, 1, reduce_common::Infer, reduce_common::Run<SumAcc>};
  return def;
}

}  // namespace dopt
