// ReduceProd: product; 1 over an empty set. Over `axes` (attribute before opset 18, input 1 from
// 18), keepdims, noop_with_empty_axes. Float, int32 and int64; accumulates in double, one output element per
// task (reduce_common.h).

#include "ops/reduce_common.h"

namespace dopt {
namespace {
struct Acc {
  static double Init() { return 1; }
  static double Add(double a, float x) { return a * x; }
  static float Done(double a, int64_t) { return (float)a; }
};
struct IntAcc {
  static int64_t Init() { return 1; }
  static int64_t Add(int64_t a, int64_t x) { return (int64_t)((uint64_t)a * (uint64_t)x); }
  static int64_t Done(int64_t a, int64_t) { return a; }
};
}  // namespace

const OpDef& OpDef_ReduceProd() {
  static const OpDef def{
      .name = "ReduceProd",
      .min_inputs = 1,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = reduce_common::Infer<true>,
      .run = reduce_common::Run<Acc, IntAcc>,
      .upgrade = UpgradeBy(reduce_common::UpgradeAxes<18>).Since(1),  // 11: negative axes; 13: types; 18: axes input
      .quant = NoQuantRole()  // products leave the input range,
  };
  return def;
}

}  // namespace dopt
