// HammingWindow: y[i] = 25/46 - 21/46 cos(2 pi i / N), i < size (ONNX's exact alpha = 25/46,
// not 0.54); N = size (periodic, the default) or size - 1 (symmetric). The shape rule and
// kernel are signal_util's.
#include <cmath>
#include <numbers>

#include "ops/signal_util.h"

namespace dopt {
namespace {

double Coefficient(double i, double n) { return 25.0 / 46.0 - 21.0 / 46.0 * std::cos(2 * std::numbers::pi * i / n); }

Status Run(KernelContext& ctx) { return RunWindow(ctx, Coefficient); }

}  // namespace

const OpDef& OpDef_HammingWindow() {
  static const OpDef def{
      .name = "HammingWindow",
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
