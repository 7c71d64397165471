// Independent references for the integer op tests (ConvInteger, QLinearConv, MatMulInteger,
// QLinearMatMul): plain loops over int8 / uint8 tensors with int32 sums, written from the ONNX
// spec without dopt's op code.
#pragma once

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "check_op.h"

namespace dopt {
namespace optest {

// Uniform integer tensor of an int8 / uint8 dtype from a fixed seed.
inline Tensor RandomInt(DType dt, const Shape& shape, uint32_t seed, int lo = -1000, int hi = 1000) {
  Tensor t(dt, shape);
  std::mt19937 rng(seed);
  if (dt == DType::kInt8) {
    std::uniform_int_distribution<int> d(std::max(lo, -128), std::min(hi, 127));
    for (int64_t i = 0; i < t.numel(); ++i) t.data<int8_t>()[i] = (int8_t)d(rng);
  } else {
    std::uniform_int_distribution<int> d(std::max(lo, 0), std::min(hi, 255));
    for (int64_t i = 0; i < t.numel(); ++i) t.data<uint8_t>()[i] = (uint8_t)d(rng);
  }
  return t;
}

// Element i of an int8 / uint8 / int32 tensor.
inline int32_t IntAt(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::kInt8: return t.data<int8_t>()[i];
    case DType::kUInt8: return t.data<uint8_t>()[i];
    default: return t.data<int32_t>()[i];
  }
}

// A zero point tensor of `dt` with the given values (shape {} for one value unless `shape` given).
inline Tensor ZeroPoint(DType dt, std::vector<int> v, Shape shape = {}) {
  if (shape.empty() && v.size() != 1) shape = {(int64_t)v.size()};
  Tensor t(dt, shape);
  for (size_t i = 0; i < v.size(); ++i) {
    if (dt == DType::kInt8) t.data<int8_t>()[i] = (int8_t)v[i];
    else t.data<uint8_t>()[i] = (uint8_t)v[i];
  }
  return t;
}

struct IntConvCase {
  int64_t N, C, M, G;
  std::vector<int64_t> in, k, s, d, pads;  // pads: begins then ends
  std::string auto_pad = "NOTSET";
};

// A node of `type` with the case's attributes.
inline OpCase IntConvNode(const std::string& type, const IntConvCase& c) {
  OpCase oc(type);
  oc.Attr("group", IntAttr(c.G)).Attr("strides", IntsAttr(c.s)).Attr("dilations", IntsAttr(c.d));
  if (c.auto_pad == "NOTSET") oc.Attr("pads", IntsAttr(c.pads));
  else oc.Attr("auto_pad", StringAttr(c.auto_pad));
  return oc;
}

// Output shape from the ONNX formulas.
inline Shape RefIntConvShape(const IntConvCase& c) {
  Shape y = {c.N, c.M};
  const size_t ns = c.in.size();
  for (size_t i = 0; i < ns; ++i) {
    const int64_t span = (c.k[i] - 1) * c.d[i] + 1;
    if (c.auto_pad == "SAME_UPPER" || c.auto_pad == "SAME_LOWER") y.push_back((c.in[i] + c.s[i] - 1) / c.s[i]);
    else if (c.auto_pad == "VALID") y.push_back((c.in[i] - span) / c.s[i] + 1);
    else y.push_back((c.in[i] + c.pads[i] + c.pads[ns + i] - span) / c.s[i] + 1);
  }
  return y;
}

// conv(x - xz, w - wz[m]) in int32; wz has one value or one per output channel.
inline Tensor RefIntConv(const IntConvCase& c, const Tensor& x, int32_t xz, const Tensor& w,
                         const std::vector<int32_t>& wz) {
  const Shape ys = RefIntConvShape(c);
  const int ns = (int)c.in.size(), off = 3 - ns;
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, d[3] = {1, 1, 1}, p[3] = {0, 0, 0};
  for (int i = 0; i < ns; ++i) {
    in[off + i] = c.in[i];
    out[off + i] = ys[2 + i];
    k[off + i] = c.k[i];
    s[off + i] = c.s[i];
    d[off + i] = c.d[i];
    p[off + i] = c.auto_pad == "NOTSET" ? c.pads[i] : 0;
  }
  if (c.auto_pad == "SAME_UPPER" || c.auto_pad == "SAME_LOWER") {
    for (int i = 0; i < 3; ++i) {
      int64_t total = std::max<int64_t>(0, (out[i] - 1) * s[i] + (k[i] - 1) * d[i] + 1 - in[i]);
      p[i] = c.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    }
  }
  Tensor y(DType::kInt32, ys);
  int32_t* yp = y.data<int32_t>();
  const int64_t Cg = c.C / c.G, Mg = c.M / c.G;
  for (int64_t n = 0; n < c.N; ++n)
    for (int64_t m = 0; m < c.M; ++m)
      for (int64_t od = 0; od < out[0]; ++od)
        for (int64_t oh = 0; oh < out[1]; ++oh)
          for (int64_t ow = 0; ow < out[2]; ++ow) {
            int32_t acc = 0;
            const int64_t g = m / Mg;
            const int32_t z = wz.size() == 1 ? wz[0] : wz[m];
            for (int64_t cc = 0; cc < Cg; ++cc)
              for (int64_t kd = 0; kd < k[0]; ++kd)
                for (int64_t kh = 0; kh < k[1]; ++kh)
                  for (int64_t kw = 0; kw < k[2]; ++kw) {
                    const int64_t id = od * s[0] - p[0] + kd * d[0], ih = oh * s[1] - p[1] + kh * d[1],
                                  iw = ow * s[2] - p[2] + kw * d[2];
                    if (id < 0 || id >= in[0] || ih < 0 || ih >= in[1] || iw < 0 || iw >= in[2]) continue;
                    const int64_t ci = g * Cg + cc;
                    acc += (IntAt(x, (((n * c.C + ci) * in[0] + id) * in[1] + ih) * in[2] + iw) - xz) *
                           (IntAt(w, (((m * Cg + cc) * k[0] + kd) * k[1] + kh) * k[2] + kw) - z);
                  }
            *yp++ = acc;
          }
  return y;
}

// (a - az[row]) x (b - bz[col]) for 2-D a [M, K], b [K, N], batched over leading dims of
// equal batch size (or b 2-D shared); az / bz one value or one per row / column.
inline Tensor RefIntMatMul(const Tensor& a, const std::vector<int32_t>& az, const Tensor& b,
                           const std::vector<int32_t>& bz) {
  const int64_t M = a.dim(a.rank() - 2), K = a.dim(a.rank() - 1), N = b.dim(b.rank() - 1);
  const int64_t batches = a.numel() / (M * K), b_batches = b.numel() / (K * N);
  Shape ys(a.shape().begin(), a.shape().end() - 2);
  if (b.rank() > a.rank()) ys.assign(b.shape().begin(), b.shape().end() - 2);
  ys.push_back(M);
  ys.push_back(N);
  Tensor y(DType::kInt32, ys);
  const int64_t nb = std::max(batches, b_batches);
  for (int64_t bi = 0; bi < nb; ++bi)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        int32_t acc = 0;
        for (int64_t k = 0; k < K; ++k) {
          const int64_t ai = (batches == 1 ? 0 : bi) * M * K + i * K + k;
          const int64_t bj = (b_batches == 1 ? 0 : bi) * K * N + k * N + j;
          acc += (IntAt(a, ai) - (az.size() == 1 ? az[0] : az[i])) * (IntAt(b, bj) - (bz.size() == 1 ? bz[0] : bz[j]));
        }
        y.data<int32_t>()[(bi * M + i) * N + j] = acc;
      }
  return y;
}

// saturate(round_half_even(acc * scale) + zp) in double, to `dt`.
inline int32_t RefRequantize(int64_t acc, double scale, int32_t zp, DType dt) {
  const double lo = dt == DType::kInt8 ? -128 : 0, hi = dt == DType::kInt8 ? 127 : 255;
  return (int32_t)std::min(hi, std::max(lo, std::nearbyint((double)acc * scale) + zp));
}

}  // namespace optest
}  // namespace dopt
