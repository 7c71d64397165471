// ReduceMax: maximum over `axes` (attribute before opset 18, input 1 from 18), keepdims,
// noop_with_empty_axes; -inf over an empty set, NaN propagates. Float, int32 and int64 (int64 accumulator).
#include <cmath>
#include <limits>

#include "ops/reduce_common.h"

namespace dopt {
namespace {
struct MaxAcc {
  static double Init() { return -std::numeric_limits<double>::infinity(); }
  static double Add(double a, float x) { return (std::isnan(a) || std::isnan(x)) ? std::nan("") : std::max(a, (double)x); }
  static float Done(double a, int64_t) { return (float)a; }
};
struct IntAcc {
  template <typename T>
  static int64_t Init() { return (int64_t)std::numeric_limits<T>::lowest(); }  // empty: T's extreme
  static int64_t Add(int64_t a, int64_t x) { return std::max(a, x); }
  static int64_t Done(int64_t a, int64_t) { return a; }
};
}  // namespace

const OpDef& OpDef_ReduceMax() {
  static const OpDef def{
      .name = "ReduceMax",
      .min_inputs = 1,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = reduce_common::Infer<true>,
      .run = reduce_common::Run<MaxAcc, IntAcc>,
      .upgrade = UpgradeBy(reduce_common::UpgradeAxes<18>).Since(1),  // 11: negative axes; 12, 13, 20: types; 18: axes input
      .quant = SharesInputScale(),  // the max along axes; dequantization is increasing
  };
  return def;
}

}  // namespace dopt
