// LSTM (opsets 7, 14): one-layer LSTM, gates in the order i, o, f, c (default f = Sigmoid,
// g = h = Tanh), with optional peepholes P = [Pi, Po, Pf]:
//   i = f(X·Wiᵀ + H·Riᵀ + Pi (.) C + Wbi + Rbi),  f = f(X·Wfᵀ + H·Rfᵀ + Pf (.) C + Wbf + Rbf)
//   c = g(X·Wcᵀ + H·Rcᵀ + Wbc + Rbc),  C_t = f (.) C + i (.) c
//   o = f(X·Woᵀ + H·Roᵀ + Po (.) C_t + Wbo + Rbo),  H_t = o (.) h(C_t)
// input_forget = 1 couples the gates as ONNX Runtime does: f = 1 - i.
// Attributes, shapes, sequence_lens and the direction loop: recurrent_common.h.
#include <cstring>

#include "kernels/gemm.h"
#include "ops/recurrent_common.h"

namespace dopt {
namespace {

using recurrent::Kind;

Status Infer(InferContext& ctx) { return recurrent::Infer(ctx, Kind::kLstm); }

void Step(const recurrent::Step& s) {
  const int64_t B = s.batch, H = s.hidden, GH = 4 * H;
  // gates = H_{t-1}·Rᵀ
  kernels::Sgemm(s.pool, false, true, B, GH, H, 1.f, s.h, H, s.r, H, 0.f, s.gates, GH);
  const recurrent::Activation& f = s.attrs->act(s.d, 0);
  const recurrent::Activation& g = s.attrs->act(s.d, 1);
  const recurrent::Activation& h = s.attrs->act(s.d, 2);
  const float clip = s.attrs->clip;
  const bool input_forget = s.attrs->input_forget;
  const float* pi = s.p;
  const float* po = s.p ? s.p + H : nullptr;
  const float* pf = s.p ? s.p + 2 * H : nullptr;
  s.ForActiveRows([&](int64_t b) {
    float* gt = s.gates + b * GH;
    const float* xw = s.xw[b];
    for (int64_t j = 0; j < GH; ++j) gt[j] += xw[j];
    float* gi = gt;
    float* go = gt + H;
    float* gf = gt + 2 * H;
    float* gc = gt + 3 * H;
    float* c = s.c + b * H;
    if (pi)
      for (int64_t j = 0; j < H; ++j) gi[j] += pi[j] * c[j];
    f.Apply(gi, H, clip);
    if (input_forget) {
      for (int64_t j = 0; j < H; ++j) gf[j] = 1.f - gi[j];
    } else {
      if (pf)
        for (int64_t j = 0; j < H; ++j) gf[j] += pf[j] * c[j];
      f.Apply(gf, H, clip);
    }
    g.Apply(gc, H, clip);
    for (int64_t j = 0; j < H; ++j) c[j] = gf[j] * c[j] + gi[j] * gc[j];
    if (po)
      for (int64_t j = 0; j < H; ++j) go[j] += po[j] * c[j];
    f.Apply(go, H, clip);
    std::memcpy(gi, c, sizeof(float) * H);  // h(C_t) in the i gate's slot, which is done
    h.Apply(gi, H, 0.f);  // C_t is not clipped (as ONNX Runtime)
    float* hp = s.h + b * H;
    for (int64_t j = 0; j < H; ++j) hp[j] = go[j] * gi[j];
    if (s.y[b]) std::memcpy(s.y[b], hp, sizeof(float) * H);
  });
}

Status Run(KernelContext& ctx) { return recurrent::Run(ctx, Kind::kLstm, Step); }

}  // namespace

const OpDef& OpDef_LSTM() {
  static const OpDef def{
      .name = "LSTM",
      .min_inputs = 3,
      .max_inputs = 8,
      .min_outputs = 1,
      .max_outputs = 3,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("7: output_sequence removed (dopt's oldest opset); 14: layout attribute, "
                                 "whose default 0 keeps the [seq, batch, ...] layout, and bfloat16"),
      .quant = recurrent::kQuantTraits,
  };
  return def;
}

}  // namespace dopt
