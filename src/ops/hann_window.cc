// HannWindow: y[i] = sin(pi i / N)^2 = 0.5 - 0.5 cos(2 pi i / N), i < size; N = size (periodic,
// the default) or size - 1 (symmetric). The shape rule and kernel are signal_util's.
#include <cmath>
#include <numbers>

#include "ops/signal_util.h"

namespace dopt {
namespace {

double Coefficient(double i, double n) { return std::pow(std::sin(std::numbers::pi * i / n), 2); }

Status Run(KernelContext& ctx) { return RunWindow(ctx, Coefficient); }

}  // namespace

const OpDef& OpDef_HannWindow() {
  static const OpDef def{
      .name = "HannWindow",
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
