// GRU (opsets 7, 14): one-layer GRU, gates in the order z, r, h (default f = Sigmoid, g = Tanh):
//   z = f(X·Wzᵀ + H·Rzᵀ + Wbz + Rbz),  r = f(X·Wrᵀ + H·Rrᵀ + Wbr + Rbr)
//   h = g(X·Whᵀ + (r (.) H)·Rhᵀ + Rbh + Wbh)          linear_before_reset = 0
//   h = g(X·Whᵀ + r (.) (H·Rhᵀ + Rbh) + Wbh)          linear_before_reset != 0
//   H_t = (1 - z) (.) h + z (.) H
// Attributes, shapes, sequence_lens and the direction loop: recurrent_common.h.
#include <cstring>

#include "kernels/gemm.h"
#include "ops/recurrent_common.h"

namespace dopt {
namespace {

using recurrent::Kind;

Status Infer(InferContext& ctx) { return recurrent::Infer(ctx, Kind::kGru); }

void Step(const recurrent::Step& s) {
  const int64_t B = s.batch, H = s.hidden, GH = 3 * H;
  const bool lbr = s.attrs->linear_before_reset;
  const recurrent::Activation& f = s.attrs->act(s.d, 0);
  const recurrent::Activation& g = s.attrs->act(s.d, 1);
  const float clip = s.attrs->clip;
  // gates[:, 0:2H] = H_{t-1}·[Rz Rr]ᵀ; with linear_before_reset also gates[:, 2H:3H] = H_{t-1}·Rhᵀ.
  kernels::Sgemm(s.pool, false, true, B, lbr ? GH : 2 * H, H, 1.f, s.h, H, s.r, H, 0.f, s.gates, GH);
  s.ForActiveRows([&](int64_t b) {
    float* gt = s.gates + b * GH;
    const float* xw = s.xw[b];
    for (int64_t j = 0; j < 2 * H; ++j) gt[j] += xw[j];
    f.Apply(gt, 2 * H, clip);  // z and r
    if (!lbr) {
      const float* r = gt + H;
      const float* hp = s.h + b * H;
      float* e = s.extra + b * H;
      for (int64_t j = 0; j < H; ++j) e[j] = r[j] * hp[j];
    }
  });
  // gates[:, 2H:3H] = (r (.) H_{t-1})·Rhᵀ (rows of finished entries are computed and ignored).
  if (!lbr) kernels::Sgemm(s.pool, false, true, B, H, H, 1.f, s.extra, H, s.r + 2 * H * H, H, 0.f, s.gates + 2 * H, GH);
  const float* rbh = s.rb ? s.rb + 2 * H : nullptr;
  s.ForActiveRows([&](int64_t b) {
    float* gt = s.gates + b * GH;
    const float* z = gt;
    const float* r = gt + H;
    float* hh = gt + 2 * H;
    const float* xw = s.xw[b] + 2 * H;
    if (lbr) {
      for (int64_t j = 0; j < H; ++j) hh[j] = xw[j] + r[j] * (hh[j] + (rbh ? rbh[j] : 0.f));
    } else {
      for (int64_t j = 0; j < H; ++j) hh[j] += xw[j];  // Rbh is folded into xw
    }
    g.Apply(hh, H, clip);
    float* hp = s.h + b * H;
    for (int64_t j = 0; j < H; ++j) hp[j] = (1.f - z[j]) * hh[j] + z[j] * hp[j];
    if (s.y[b]) std::memcpy(s.y[b], hp, sizeof(float) * H);
  });
}

Status Run(KernelContext& ctx) { return recurrent::Run(ctx, Kind::kGru, Step); }

}  // namespace

const OpDef& OpDef_GRU() {
  static const OpDef def{
      .name = "GRU",
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
