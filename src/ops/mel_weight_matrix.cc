// MelWeightMatrix: the [dft_length / 2 + 1, num_mel_bins] matrix of triangular mel filters that
// maps a one-sided spectrum to mel bands (spectrum [frames, bins] x matrix). As ONNX's
// reference (and ONNX Runtime): num_mel_bins + 2 edge frequencies equally spaced on the mel
// scale mel(f) = 2595 log10(1 + f / 700) from lower_edge_hertz with step (mel(upper) -
// mel(lower)) / (num_mel_bins + 2), each mapped to the spectrum bin floor((dft_length + 1) f /
// sample_rate); filter i rises from edge i to 1 at edge i + 1 and falls to edge i + 2.
// Computed in double; output_datatype (default float) picks the output type. An edge outside
// the spectrum (a negative lower edge, an upper edge above the Nyquist frequency) is an error.
#include <cmath>

#include "common/limits.h"
#include "ops/op_util.h"
#include "ops/signal_util.h"

namespace dopt {
namespace {

struct MelArgs {
  int64_t num_mel_bins, dft_length, sample_rate;
  double lower, upper;
};

Status CheckSizes(const Node& node, int64_t num_mel_bins, int64_t dft_length) {
  DOPT_RETURN_IF_ERROR(CheckLength(node, num_mel_bins, int64_t{1} << 24, "num_mel_bins"));
  if (dft_length < 1) return InvalidArgument(node.Describe() + ": dft_length must be positive, got " + std::to_string(dft_length));
  DOPT_RETURN_IF_ERROR(CheckLength(node, dft_length, int64_t{1} << 30, "dft_length"));
  if ((double)(dft_length / 2 + 1) * (double)num_mel_bins > (double)kMaxTensorElements)
    return InvalidArgument(node.Describe() + ": the matrix would have more than " + std::to_string(kMaxTensorElements) + " elements");
  return Status::Ok();
}

Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  for (int i = 0; i < 3; ++i) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, i, {DType::kInt32, DType::kInt64}));
  for (int i = 3; i < 5; ++i) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, i, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  DOPT_ASSIGN_OR_RETURN(DType t, OutputDatatype(node));
  int64_t mel = -1, bins = -1;
  if (ctx.input(0).value) {
    DOPT_ASSIGN_OR_RETURN(mel, ScalarInt(node, *ctx.input(0).value, "num_mel_bins"));
  }
  if (ctx.input(1).value) {
    DOPT_ASSIGN_OR_RETURN(int64_t n, ScalarInt(node, *ctx.input(1).value, "dft_length"));
    DOPT_RETURN_IF_ERROR(CheckSizes(node, mel >= 0 ? mel : 0, n));
    bins = n / 2 + 1;
  }
  if (mel >= 0) DOPT_RETURN_IF_ERROR(CheckLength(node, mel, int64_t{1} << 24, "num_mel_bins"));
  ctx.SetOutput(0, t, {bins, mel});
  return Status::Ok();
}

StatusOr<MelArgs> ReadArgs(const KernelContext& ctx) {
  const Node& node = ctx.node();
  MelArgs a;
  DOPT_ASSIGN_OR_RETURN(a.num_mel_bins, ScalarInt(node, ctx.input(0), "num_mel_bins"));
  DOPT_ASSIGN_OR_RETURN(a.dft_length, ScalarInt(node, ctx.input(1), "dft_length"));
  DOPT_ASSIGN_OR_RETURN(a.sample_rate, ScalarInt(node, ctx.input(2), "sample_rate"));
  DOPT_ASSIGN_OR_RETURN(a.lower, ScalarFloat(node, ctx.input(3), "lower_edge_hertz"));
  DOPT_ASSIGN_OR_RETURN(a.upper, ScalarFloat(node, ctx.input(4), "upper_edge_hertz"));
  DOPT_RETURN_IF_ERROR(CheckSizes(node, a.num_mel_bins, a.dft_length));
  if (a.sample_rate < 1) return InvalidArgument(node.Describe() + ": sample_rate must be positive, got " + std::to_string(a.sample_rate));
  if (!std::isfinite(a.lower) || !std::isfinite(a.upper) || a.lower < 0 || a.upper < a.lower)
    return InvalidArgument(node.Describe() + ": need 0 <= lower_edge_hertz <= upper_edge_hertz, got " + std::to_string(a.lower) +
                           " and " + std::to_string(a.upper));
  return a;
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  DOPT_ASSIGN_OR_RETURN(MelArgs a, ReadArgs(ctx));
  DOPT_ASSIGN_OR_RETURN(DType t, OutputDatatype(node));
  const int64_t nspec = a.dft_length / 2 + 1, nmel = a.num_mel_bins;
  const double ln10 = std::log(10.0);
  const double low_mel = 2595 * std::log1p(a.lower / 700) / ln10, high_mel = 2595 * std::log1p(a.upper / 700) / ln10;
  const double step = (high_mel - low_mel) / (double)(nmel + 2);
  std::vector<int64_t> edge(nmel + 2);
  for (int64_t i = 0; i < nmel + 2; ++i) {
    const double hz = 700 * std::expm1(((double)i * step + low_mel) / 2595 * ln10);
    const double bin = std::floor((double)(a.dft_length + 1) * hz / (double)a.sample_rate);
    if (!(bin >= 0 && bin < (double)nspec + 1))  // the last edge may be one past the spectrum (never written)
      return InvalidArgument(node.Describe() + ": mel edge " + std::to_string(i) + " (" + std::to_string(hz) +
                             " Hz) falls outside the spectrum's " + std::to_string(nspec) +
                             " bins: the edge frequencies must lie in [0, sample_rate / 2]");
    edge[i] = (int64_t)bin;
  }
  std::vector<double> m(nspec * nmel, 0.0);
  for (int64_t i = 0; i < nmel; ++i) {
    const int64_t lo = edge[i], center = edge[i + 1], hi = edge[i + 2];
    const int64_t top = hi - center > 0 ? hi - 1 : center;  // the highest bin written
    if (lo < 0 || top >= nspec)
      return InvalidArgument(node.Describe() + ": mel band " + std::to_string(i) + " reaches spectrum bin " + std::to_string(top) +
                             ", outside [0, " + std::to_string(nspec) + "): the edge frequencies must lie in [0, sample_rate / 2]");
    if (center - lo == 0) {
      m[center * nmel + i] = 1;
    } else {
      for (int64_t j = lo; j <= center; ++j) m[j * nmel + i] = (double)(j - lo) / (double)(center - lo);
    }
    if (hi - center > 0)
      for (int64_t j = center; j < hi; ++j) m[j * nmel + i] = (double)(hi - j) / (double)(hi - center);
  }
  Tensor& y = ctx.OutputUninitialized(0, ComputeDType(t), {nspec, nmel});
  return VisitNumericDType(y.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    T* yp = y.data<T>();
    for (size_t k = 0; k < m.size(); ++k) yp[k] = (T)m[k];
    return Status::Ok();
  });
}

}  // namespace

const OpDef& OpDef_MelWeightMatrix() {
  static const OpDef def{
      .name = "MelWeightMatrix",
      .min_inputs = 5,
      .max_inputs = 5,
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
