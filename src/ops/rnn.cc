// RNN (opsets 7, 14): one-layer simple RNN, H_t = f(X_t·Wᵀ + H_{t-1}·Rᵀ + Wb + Rb), default
// f = Tanh. Attributes, shapes, sequence_lens and the direction loop: recurrent_common.h.
#include <cstring>

#include "kernels/gemm.h"
#include "ops/recurrent_common.h"

namespace dopt {
namespace {

using recurrent::Kind;

Status Infer(InferContext& ctx) { return recurrent::Infer(ctx, Kind::kRnn); }

void Step(const recurrent::Step& s) {
  const int64_t B = s.batch, H = s.hidden;
  // gates = H_{t-1}·Rᵀ
  kernels::Sgemm(s.pool, false, true, B, H, H, 1.f, s.h, H, s.r, H, 0.f, s.gates, H);
  const recurrent::Activation& f = s.attrs->act(s.d, 0);
  const float clip = s.attrs->clip;
  s.ForActiveRows([&](int64_t b) {
    float* g = s.gates + b * H;
    const float* xw = s.xw[b];
    for (int64_t j = 0; j < H; ++j) g[j] += xw[j];
    f.Apply(g, H, clip);
    std::memcpy(s.h + b * H, g, sizeof(float) * H);
    if (s.y[b]) std::memcpy(s.y[b], g, sizeof(float) * H);
  });
}

Status Run(KernelContext& ctx) { return recurrent::Run(ctx, Kind::kRnn, Step); }

}  // namespace

const OpDef& OpDef_RNN() {
  static const OpDef def{
      .name = "RNN",
      .min_inputs = 3,
      .max_inputs = 6,
      .min_outputs = 1,
      .max_outputs = 2,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("7: output_sequence removed (dopt's oldest opset); 14: layout attribute, "
                                 "whose default 0 keeps the [seq, batch, ...] layout, and bfloat16"),
      .quant = recurrent::kQuantTraits,
  };
  return def;
}

}  // namespace dopt
