// DFT: the discrete Fourier transform of `input` along one axis. The last dim of the input is
// 1 (real) or 2 (real, imaginary); the output's is 2, except IRFFT's.
//   forward (inverse = 0): y[k] = sum_j x[j] exp(-2 pi i j k / n), k < n, or k <= n / 2 with
//     onesided = 1 (RFFT: real input only);
//   inverse = 1: x[j] = 1/n sum_k y[k] exp(2 pi i j k / n); with onesided = 1 (IRFFT: complex
//     input only) the input is the first n / 2 + 1 bins of a Hermitian spectrum and the output
//     is real ([..., 1]), as numpy's irfft (the imaginary parts of bin 0 and, for even n, bin
//     n / 2 are ignored).
// n = dft_length (input 1) when given: the signal is cut or zero-padded to it; else the axis
// length, or 2 (len - 1) for IRFFT. The axis is an attribute (default 1) at opset 17 and an
// optional scalar input 2 (default -2, the last signal axis) from 20; the upgrade rule moves
// it. Computed in double by signal_util's FFT (mixed radix; prime lengths O(n^2)).
#include <algorithm>
#include <tuple>

#include "common/limits.h"
#include "ir/graph_edit.h"
#include "ops/op_upgrade.h"
#include "ops/op_util.h"
#include "ops/signal_util.h"

namespace dopt {
namespace {

struct DftFlags {
  bool inverse = false;
  bool onesided = false;
};

StatusOr<DftFlags> ReadFlags(const Node& node) {
  DftFlags f;
  DOPT_ASSIGN_OR_RETURN(int64_t inv, node.GetInt("inverse", 0));
  DOPT_ASSIGN_OR_RETURN(int64_t one, node.GetInt("onesided", 0));
  if ((inv != 0 && inv != 1) || (one != 0 && one != 1))
    return InvalidArgument(node.Describe() + ": inverse and onesided must be 0 or 1");
  f.inverse = inv == 1;
  f.onesided = one == 1;
  return f;
}

// The axis value before normalisation: opset < 20 the attribute, else input 2 (`axis_input`,
// nullptr when omitted; `axis_known` false when present without a constant value).
StatusOr<int64_t> RawAxis(const Node& node, const Tensor* axis_input) {
  if (node.opset_version > 0 && node.opset_version < 20) return node.GetInt("axis", 1);
  if (!axis_input) return int64_t{-2};
  return ScalarInt(node, *axis_input, "axis");
}

StatusOr<int> NormalizeDftAxis(const Node& node, int64_t axis, int rank) {
  if (rank < 2) return InvalidArgument(node.Describe() + ": input must have rank >= 2 (a signal axis and the complex dim), has " + std::to_string(rank));
  DOPT_ASSIGN_OR_RETURN(int a, NormalizeAxis(node, axis, rank));
  if (a == rank - 1)
    return InvalidArgument(node.Describe() + ": axis " + std::to_string(axis) + " is the complex dim (valid: [-r, -2] and [0, r - 2])");
  return a;
}

StatusOr<int64_t> DftLength(const Node& node, const Tensor& t) {
  DOPT_ASSIGN_OR_RETURN(int64_t n, ScalarInt(node, t, "dft_length"));
  if (n < 1) return InvalidArgument(node.Describe() + ": dft_length must be positive, got " + std::to_string(n));
  DOPT_RETURN_IF_ERROR(CheckLength(node, n, kMaxFftLength, "dft_length"));
  return n;
}

Status CheckComplexDim(const Node& node, int64_t c, const DftFlags& f) {
  if (c < 0) return Status::Ok();
  if (c != 1 && c != 2) return InvalidArgument(node.Describe() + ": the last dim must be 1 (real) or 2 (complex), got " + std::to_string(c));
  if (f.onesided && !f.inverse && c != 1) return InvalidArgument(node.Describe() + ": onesided forward DFT (RFFT) needs a real input [..., 1]");
  if (f.onesided && f.inverse && c != 2) return InvalidArgument(node.Describe() + ": onesided inverse DFT (IRFFT) needs a complex input [..., 2]");
  return Status::Ok();
}

// n from dft_length (-2: not given; -1: given but unknown) and the axis length (-1: unknown).
int64_t TransformLength(int64_t dft_length, int64_t len, const DftFlags& f) {
  if (dft_length != -2) return dft_length;
  if (len < 0) return -1;
  return f.inverse && f.onesided ? 2 * (len - 1) : len;
}

// Output length along the axis, and the output's last dim.
std::pair<int64_t, int64_t> OutputDims(int64_t n, const DftFlags& f) {
  if (f.onesided && f.inverse) return {n, 1};
  if (f.onesided) return {n < 0 ? -1 : n / 2 + 1, 2};
  return {n, 2};
}

Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  if (ctx.has_input(1)) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kInt32, DType::kInt64}));
  if (ctx.has_input(2)) {
    if (node.opset_version > 0 && node.opset_version < 20)
      return InvalidArgument(node.Describe() + ": the axis input needs opset 20 (opset " + std::to_string(node.opset_version) + " has the attribute)");
    DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 2, {DType::kInt32, DType::kInt64}));
  }
  DOPT_ASSIGN_OR_RETURN(DftFlags f, ReadFlags(node));
  const ValueInfo& x = ctx.input(0);
  if (!x.rank_known) {
    ctx.SetOutputUnknownRank(0, x.dtype);
    return Status::Ok();
  }
  const int rank = (int)x.shape.size();
  DOPT_RETURN_IF_ERROR(CheckComplexDim(node, rank >= 1 ? x.shape.back() : 1, f));
  int64_t dft_length = -2;
  if (ctx.has_input(1)) {
    dft_length = -1;
    if (ctx.input(1).value) {
      DOPT_ASSIGN_OR_RETURN(dft_length, DftLength(node, *ctx.input(1).value));
    }
  }
  const bool axis_unknown = ctx.has_input(2) && !ctx.input(2).value;
  if (axis_unknown) {
    if (rank < 2) return InvalidArgument(node.Describe() + ": input must have rank >= 2, has " + std::to_string(rank));
    Shape out(rank, -1);
    out[rank - 1] = OutputDims(0, f).second;
    ctx.SetOutput(0, x.dtype, out);
    return Status::Ok();
  }
  DOPT_ASSIGN_OR_RETURN(int64_t raw, RawAxis(node, ctx.has_input(2) ? ctx.input(2).value : nullptr));
  DOPT_ASSIGN_OR_RETURN(int a, NormalizeDftAxis(node, raw, rank));
  const int64_t n = TransformLength(dft_length, x.shape[a], f);
  if (n == 0) return InvalidArgument(node.Describe() + ": the transform length is 0");
  Shape out = x.shape;
  std::tie(out[a], out[rank - 1]) = OutputDims(n, f);
  ctx.SetOutput(0, x.dtype, out);
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::kFloat32) return InvalidArgument(node.Describe() + ": expected a float input, got " + DTypeName(x.dtype()));
  DOPT_ASSIGN_OR_RETURN(DftFlags f, ReadFlags(node));
  const int rank = x.rank();
  DOPT_ASSIGN_OR_RETURN(int64_t raw, RawAxis(node, ctx.has_input(2) ? &ctx.input(2) : nullptr));
  DOPT_ASSIGN_OR_RETURN(int a, NormalizeDftAxis(node, raw, rank));
  const int64_t c = x.dim(rank - 1);
  DOPT_RETURN_IF_ERROR(CheckComplexDim(node, c, f));
  int64_t dft_length = -2;
  if (ctx.has_input(1)) {
    DOPT_ASSIGN_OR_RETURN(dft_length, DftLength(node, ctx.input(1)));
  }
  const int64_t len = x.dim(a);
  const int64_t n = TransformLength(dft_length, len, f);
  if (n < 1) return InvalidArgument(node.Describe() + ": the transform length is " + std::to_string(n) + " (axis length " + std::to_string(len) + ")");
  DOPT_RETURN_IF_ERROR(CheckLength(node, n, kMaxFftLength, "the transform length"));
  int64_t len_out, c_out;  // not a structured binding: clang 14 cannot capture those in the lambda below
  std::tie(len_out, c_out) = OutputDims(n, f);
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < a; ++d) outer *= x.dim(d);
  for (int d = a + 1; d < rank - 1; ++d) inner *= x.dim(d);
  if ((double)outer * (double)inner * (double)len_out * (double)c_out > (double)kMaxTensorElements)
    return InvalidArgument(node.Describe() + ": the output would have more than " + std::to_string(kMaxTensorElements) + " elements");
  Shape out_shape = x.shape();
  out_shape[a] = len_out;
  out_shape[rank - 1] = c_out;
  Tensor& y = ctx.OutputUninitialized(0, DType::kFloat32, out_shape);
  const FftPlan plan(n, f.inverse);
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  const double scale = f.inverse ? 1.0 / (double)n : 1.0;
  const bool irfft = f.inverse && f.onesided;
  ParallelForOrInline(ctx.pool(), outer * inner, std::max<int64_t>(1, 4096 / n), [&](int64_t b, int64_t e) {
    std::vector<FftPlan::Complex> in(n), res(n), scratch;
    for (int64_t line = b; line < e; ++line) {
      const int64_t o = line / inner, i = line % inner;
      const float* src = xp + (o * len * inner + i) * c;
      auto at = [&](int64_t j) {
        return FftPlan::Complex(src[j * inner * c], c == 2 ? src[j * inner * c + 1] : 0.f);
      };
      if (irfft) {
        for (int64_t k = 0; k <= n / 2; ++k) in[k] = k < len ? at(k) : FftPlan::Complex(0);
        in[0].imag(0);
        if (n % 2 == 0) in[n / 2].imag(0);
        for (int64_t k = n / 2 + 1; k < n; ++k) in[k] = std::conj(in[n - k]);
      } else {
        const int64_t m = std::min(len, n);
        for (int64_t j = 0; j < m; ++j) in[j] = at(j);
        std::fill(in.begin() + m, in.end(), FftPlan::Complex(0));
      }
      plan.Run(in.data(), 1, res.data(), &scratch);
      float* dst = yp + (o * len_out * inner + i) * c_out;
      for (int64_t k = 0; k < len_out; ++k) {
        float* d = dst + k * inner * c_out;
        d[0] = (float)(res[k].real() * scale);
        if (c_out == 2) d[1] = (float)(res[k].imag() * scale);
      }
    }
  });
  return Status::Ok();
}

// DFT-17 (axis attribute, default 1) -> DFT-20 (axis: scalar int64 input 2, default -2): the
// node gets the old axis as an input, named <node>_axis.
Status Upgrade(Graph& g, int ni, int from, int to) {
  if (!OpsetCrosses(from, to, 20)) return Status::Ok();
  Node& n = g.nodes[ni];
  DOPT_RETURN_IF_ERROR(NeedUpgradeInputs(n, 1));
  if (n.inputs.size() > 2 && n.inputs[2] >= 0) return Status::Ok();  // already has the input
  DOPT_ASSIGN_OR_RETURN(int64_t axis, n.GetInt("axis", 1));
  n.dirty = true;
  const int id = AddInitializer(g, n.name + "_axis", Tensor::FromInt64s({}, {axis}));
  Node& m = g.nodes[ni];
  RemoveAttr(m, "axis");
  SetUpgradeInput(m, 2, id);
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_DFT() {
  static const OpDef def{
      .name = "DFT",
      .min_inputs = 1,
      .max_inputs = 3,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = UpgradeBy(Upgrade),  // 20: axis attribute (default 1) -> input (default -2)
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
