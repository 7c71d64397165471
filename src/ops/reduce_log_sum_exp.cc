// ReduceLogSumExp: log(sum(exp(x))) over `axes` (attribute before opset 18, input 1 from 18),
// keepdims, noop_with_empty_axes; computed as max + log(sum(exp(x - max))) with a running max,
// so large inputs do not overflow; -inf over an empty set. Float only; accumulates in double,
// one output element per task.
#include <cmath>
#include <limits>

#include "ops/reduce_common.h"

namespace dopt {
namespace {
// Running maximum m and sum s of exp(x - m).
struct State {
  double m;
  double s;
};
struct Acc {
  static State Init() { return {-std::numeric_limits<double>::infinity(), 0}; }
  static State Add(State a, float xf) {
    const double x = xf;
    if (std::isnan(x) || std::isnan(a.m)) return {std::nan(""), 0};
    if (x == -std::numeric_limits<double>::infinity()) return a;  // exp(-inf) = 0
    if (x == std::numeric_limits<double>::infinity()) return {x, 1};
    if (x <= a.m) return {a.m, a.s + std::exp(x - a.m)};
    return {x, a.s * std::exp(a.m - x) + 1};
  }
  static float Done(State a, int64_t) {
    if (std::isnan(a.m) || std::isinf(a.m)) return (float)a.m;
    return (float)(a.m + std::log(a.s));
  }
};
}  // namespace

const OpDef& OpDef_ReduceLogSumExp() {
  static const OpDef def{
      .name = "ReduceLogSumExp",
      .min_inputs = 1,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = reduce_common::Infer<>,
      .run = reduce_common::Run<Acc>,
      .upgrade = UpgradeBy(reduce_common::UpgradeAxes<18>).Since(1),  // 11: negative axes; 13: types; 18: axes input
      .quant = NoQuantRole()  // leaves the input range,
  };
  return def;
}

}  // namespace dopt
