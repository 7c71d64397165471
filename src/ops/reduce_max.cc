// ReduceMax: maximum over `axes` (attribute before opset 18, input 1 from 18), keepdims,
// noop_with_empty_axes; -inf over an empty set, NaN propagates. Float only.
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
}  // namespace

const OpDef& OpDef_ReduceMax() {
  static const OpDef def{"ReduceMax", 1, 2, 1, 1, reduce_common::Infer, reduce_common::Run<MaxAcc>};
  return def;
}

}  // namespace dopt
