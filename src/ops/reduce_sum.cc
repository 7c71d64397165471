// ReduceSum: sum over `axes` (attribute before opset 13, input 1 from 13), keepdims,
// noop_with_empty_axes; sums in double. Float, int32 and int64 (int64 accumulator).
#include "ops/reduce_common.h"

namespace dopt {
namespace {
struct SumAcc {
  static double Init() { return 0; }
  static double Add(double a, float x) { return a + x; }
  static float Done(double a, int64_t) { return (float)a; }
};
struct IntSumAcc {
  static int64_t Init() { return 0; }
  static int64_t Add(int64_t a, int64_t x) { return (int64_t)((uint64_t)a + (uint64_t)x); }
  static int64_t Done(int64_t a, int64_t) { return a; }
};
}  // namespace

const OpDef& OpDef_ReduceSum() {
  static const OpDef def{
      .name = "ReduceSum",
      .min_inputs = 1,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = reduce_common::Infer<true>,
      .run = reduce_common::Run<SumAcc, IntSumAcc>,
      .upgrade = UpgradeBy(reduce_common::UpgradeAxes<13>).Since(1),  // 11: negative axes allowed; 13: axes input
      .quant = NoQuantRole(),  // sums leave the input range
  };
  return def;
}

}  // namespace dopt
