// What the signal ops share (DFT, STFT; HannWindow, HammingWindow, BlackmanWindow;
// MelWeightMatrix): a complex FFT of any length in double, the scalar-input readers, and the
// window functions' shape rule and kernel.
#pragma once

#include <complex>
#include <cstdint>
#include <vector>

#include "ops/op.h"

namespace dopt {

// out[k] = sum_j in[j * stride] * exp(-+2 pi i j k / n) for k < n (sign + when inverse; no
// 1/n scaling), in double. Mixed radix (recursive Cooley-Tukey over the smallest prime factors,
// O(n * sum of the factors)); a prime length is a direct O(n^2) sum over a twiddle table.
// A plan is read-only once built: one plan serves every thread, each with its own scratch.
// The longest transform dopt computes (16 Mi points: the plan and buffers take ~0.5 GiB).
inline constexpr int64_t kMaxFftLength = int64_t{1} << 24;

class FftPlan {
 public:
  using Complex = std::complex<double>;
  FftPlan(int64_t n, bool inverse);
  int64_t size() const { return n_; }
  // `scratch` is resized as needed (2n elements).
  void Run(const Complex* in, int64_t stride, Complex* out, std::vector<Complex>* scratch) const;

 private:
  void Rec(const Complex* in, int64_t stride, Complex* out, int64_t n, int64_t tw_stride, size_t level,
           Complex* scratch) const;
  int64_t n_;
  std::vector<Complex> tw_;        // exp(-+2 pi i j / n), j < n
  std::vector<int64_t> factors_;   // prime factors of n, smallest first
};

// The value of a scalar (or one-element) int32/int64 tensor; `what` names it in errors.
StatusOr<int64_t> ScalarInt(const Node& node, const Tensor& t, const char* what);
// The value of a scalar (or one-element) float tensor (float16/bfloat16 included).
StatusOr<double> ScalarFloat(const Node& node, const Tensor& t, const char* what);
// The dtype the output_datatype attribute (ONNX TensorProto number, default float) names.
StatusOr<DType> OutputDatatype(const Node& node);
// A length read from a constant input: >= 0 and at most `limit`; `what` names it.
Status CheckLength(const Node& node, int64_t v, int64_t limit, const char* what);

// The window ops: input 0 is the scalar size (int32/int64), attributes periodic (default 1)
// and output_datatype (default float); y[i] = coefficient(i, N) for i < size with N = size
// (periodic) or size - 1 (symmetric), computed in double as ONNX's reference does.
using WindowCoefficient = double (*)(double i, double n);
Status InferWindow(InferContext& ctx);
Status RunWindow(KernelContext& ctx, WindowCoefficient coefficient);

}  // namespace dopt
