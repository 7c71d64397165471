// STFT: the short-time Fourier transform of signal [batch, length, 1 | 2] (real | complex):
// frames of frame_length samples every frame_step samples, each multiplied by `window`
// (optional [frame_length]; absent: ones) and transformed by a DFT of length frame_length.
// Output [batch, frames, bins, 2] with frames = (length - frame_length) / frame_step + 1 and
// bins = frame_length / 2 + 1 (onesided = 1, the default; real signals only) or frame_length.
// frame_length (optional scalar input 3) defaults to the window's length, else the signal's.
// Computed in double by signal_util's FFT.
#include <algorithm>
#include <limits>

#include "common/limits.h"
#include "ops/op_util.h"
#include "ops/signal_util.h"

namespace dopt {
namespace {

StatusOr<bool> Onesided(const Node& node) {
  DOPT_ASSIGN_OR_RETURN(int64_t v, node.GetInt("onesided", 1));
  if (v != 0 && v != 1) return InvalidArgument(node.Describe() + ": onesided must be 0 or 1, got " + std::to_string(v));
  return v == 1;
}

// Markers for inputs whose value the shape rule does not know, or that are omitted (no user
// value can collide with them: frame_step and frame_length must be positive).
constexpr int64_t kUnknown = std::numeric_limits<int64_t>::min();
constexpr int64_t kAbsent = kUnknown + 1;

// The frame geometry; kUnknown where an input's value or dim is unknown.
struct Frames {
  int64_t n_fft = kUnknown, frames = kUnknown, bins = kUnknown;
};

// len: the signal length; step; frame_length and window_len may also be kAbsent.
StatusOr<Frames> Geometry(const Node& node, int64_t len, int64_t step, int64_t frame_length, int64_t window_len, bool onesided) {
  auto known = [](int64_t v) { return v != kUnknown && v != kAbsent; };
  Frames f;
  if (known(step) && step < 1) return InvalidArgument(node.Describe() + ": frame_step must be positive, got " + std::to_string(step));
  if (known(frame_length) && frame_length < 1)
    return InvalidArgument(node.Describe() + ": frame_length must be positive, got " + std::to_string(frame_length));
  if (known(frame_length) && known(window_len) && frame_length != window_len)
    return InvalidArgument(node.Describe() + ": the window has " + std::to_string(window_len) + " elements, frame_length is " +
                           std::to_string(frame_length));
  f.n_fft = frame_length != kAbsent ? frame_length : window_len != kAbsent ? window_len : len;
  if (!known(f.n_fft)) return f;
  if (f.n_fft < 1) return InvalidArgument(node.Describe() + ": the frame length is " + std::to_string(f.n_fft));
  if (known(len) && f.n_fft > len)
    return InvalidArgument(node.Describe() + ": frame_length " + std::to_string(f.n_fft) + " is longer than the signal (" +
                           std::to_string(len) + " samples)");
  f.bins = onesided ? f.n_fft / 2 + 1 : f.n_fft;
  if (known(len) && known(step)) f.frames = (len - f.n_fft) / step + 1;
  return f;
}

// A dim for the shape rule: -1 where unknown.
int64_t Dim(int64_t v) { return v == kUnknown || v == kAbsent ? -1 : v; }

Status CheckSignal(const Node& node, const Shape& s, bool onesided) {
  if (s.size() != 3) return InvalidArgument(node.Describe() + ": signal must be 3-D [batch, length, 1 | 2], got " + ShapeToString(s));
  if (s[2] >= 0 && s[2] != 1 && s[2] != 2)
    return InvalidArgument(node.Describe() + ": the signal's last dim must be 1 (real) or 2 (complex), got " + ShapeToString(s));
  if (onesided && s[2] == 2) return InvalidArgument(node.Describe() + ": onesided = 1 needs a real signal [batch, length, 1]");
  return Status::Ok();
}

Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kInt32, DType::kInt64}));
  if (ctx.has_input(2)) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 2, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  if (ctx.has_input(3)) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 3, {DType::kInt32, DType::kInt64}));
  DOPT_ASSIGN_OR_RETURN(bool onesided, Onesided(node));
  const ValueInfo& sig = ctx.input(0);
  const Shape s = sig.rank_known ? sig.shape : Shape{-1, -1, -1};
  DOPT_RETURN_IF_ERROR(CheckSignal(node, s, onesided));
  int64_t step = kUnknown, frame_length = ctx.has_input(3) ? kUnknown : kAbsent, window_len = ctx.has_input(2) ? kUnknown : kAbsent;
  if (ctx.input(1).value) {
    DOPT_ASSIGN_OR_RETURN(step, ScalarInt(node, *ctx.input(1).value, "frame_step"));
  }
  if (ctx.has_input(3) && ctx.input(3).value) {
    DOPT_ASSIGN_OR_RETURN(frame_length, ScalarInt(node, *ctx.input(3).value, "frame_length"));
  }
  if (ctx.has_input(2) && ctx.input(2).rank_known) {
    if (ctx.input(2).shape.size() != 1)
      return InvalidArgument(node.Describe() + ": window must be 1-D, got " + ShapeToString(ctx.input(2).shape));
    if (ctx.input(2).shape[0] >= 0) window_len = ctx.input(2).shape[0];
  }
  DOPT_ASSIGN_OR_RETURN(Frames f, Geometry(node, s[1] >= 0 ? s[1] : kUnknown, step, frame_length, window_len, onesided));
  ctx.SetOutput(0, sig.dtype, {s[0], Dim(f.frames), Dim(f.bins), 2});
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::kFloat32) return InvalidArgument(node.Describe() + ": expected a float signal, got " + DTypeName(x.dtype()));
  DOPT_ASSIGN_OR_RETURN(bool onesided, Onesided(node));
  DOPT_RETURN_IF_ERROR(CheckSignal(node, x.shape(), onesided));
  DOPT_ASSIGN_OR_RETURN(int64_t step, ScalarInt(node, ctx.input(1), "frame_step"));
  int64_t frame_length = kAbsent, window_len = kAbsent;
  if (ctx.has_input(3)) {
    DOPT_ASSIGN_OR_RETURN(frame_length, ScalarInt(node, ctx.input(3), "frame_length"));
  }
  const Tensor* window = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  if (window) {
    if (window->rank() != 1) return InvalidArgument(node.Describe() + ": window must be 1-D, got " + ShapeToString(window->shape()));
    if (window->dtype() != DType::kFloat32) return InvalidArgument(node.Describe() + ": window must be float");
    window_len = window->dim(0);
  }
  const int64_t batch = x.dim(0), len = x.dim(1), c = x.dim(2);
  DOPT_ASSIGN_OR_RETURN(Frames f, Geometry(node, len, step, frame_length, window_len, onesided));
  if ((double)batch * (double)f.frames * (double)f.bins * 2 > (double)kMaxTensorElements)
    return InvalidArgument(node.Describe() + ": the output would have more than " + std::to_string(kMaxTensorElements) + " elements");
  Tensor& y = ctx.OutputUninitialized(0, DType::kFloat32, {batch, f.frames, f.bins, 2});
  const int64_t n = f.n_fft;
  DOPT_RETURN_IF_ERROR(CheckLength(node, n, kMaxFftLength, "frame_length"));
  const FftPlan plan(n, /*inverse=*/false);
  const float* xp = x.data<float>();
  const float* wp = window ? window->data<float>() : nullptr;
  float* yp = y.data<float>();
  ParallelForOrInline(ctx.pool(), batch * f.frames, std::max<int64_t>(1, 4096 / n), [&](int64_t b, int64_t e) {
    std::vector<FftPlan::Complex> in(n), res(n), scratch;
    for (int64_t t = b; t < e; ++t) {
      const int64_t bi = t / f.frames, fi = t % f.frames;
      const float* src = xp + (bi * len + fi * step) * c;
      for (int64_t j = 0; j < n; ++j) {
        const double w = wp ? (double)wp[j] : 1.0;
        in[j] = FftPlan::Complex(w * src[j * c], c == 2 ? w * src[j * c + 1] : 0.0);
      }
      plan.Run(in.data(), 1, res.data(), &scratch);
      float* dst = yp + t * f.bins * 2;
      for (int64_t k = 0; k < f.bins; ++k) {
        dst[2 * k] = (float)res[k].real();
        dst[2 * k + 1] = (float)res[k].imag();
      }
    }
  });
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_STFT() {
  static const OpDef def{
      .name = "STFT",
      .min_inputs = 2,
      .max_inputs = 4,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 17; unchanged since"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
