// BlackmanWindow: y[i] = 0.42 - 0.5 cos(2 pi i / N) + 0.08 cos(4 pi i / N), i < size; N = size
// (periodic, the default) or size - 1 (symmetric). The shape rule and kernel are signal_util's.
#include <cmath>
#include <numbers>

#include "ops/signal_util.h"

namespace dopt {
namespace {

double Coefficient(double i, double n) { return 0.42 - 0.5 * std::cos(2 * std::numbers::pi * i / n) + 0.08 * std::cos(4 * std::numbers::pi * i / n); }

Status Run(KernelContext& ctx) { return RunWindow(ctx, Coefficient); }

}  // namespace

const OpDef& OpDef_BlackmanWindow() {
  static const OpDef def{
      .name = "BlackmanWindow",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = InferWindow,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 17; unchanged since"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
