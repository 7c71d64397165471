// Resize (opsets 10-19): nearest / linear / cubic interpolation over any dims, with the
// ONNX coordinate transformation modes. Inputs: opset 10 (X, scales); 11+ (X, roi, scales,
// sizes). Also holds RunResizeKernel, which Upsample uses too.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "ir/graph_edit.h"
#include "ops/op_upgrade.h"
#include "ops/op_util.h"

namespace dopt {

namespace {

// Per-dim sampling table: for output index o, K (index, weight) entries; `outside[o]`
// marks tf_crop_and_resize points that take the extrapolation value.
struct DimTable {
  int k = 1;
  std::vector<int64_t> idx;
  std::vector<double> w;
  std::vector<uint8_t> outside;
};

// `out` is the integer output length; modes that divide by the resized length use the
// unrounded scale * in, as the ONNX reference does.
double CoordOf(const ResizeSpec& s, int64_t x, int64_t in, int64_t out, double scale, double roi_start,
               double roi_end) {
  const std::string& m = s.coord_mode;
  const double out_f = scale * (double)in;
  if (m == "asymmetric") return x / scale;
  if (m == "align_corners") return out_f <= 1 ? 0.0 : (double)x * (in - 1) / (out_f - 1);
  if (m == "pytorch_half_pixel") return out_f > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
  if (m == "tf_half_pixel_for_nn") return (x + 0.5) / scale;
  if (m == "tf_crop_and_resize") {
    return out_f > 1 ? roi_start * (in - 1) + x * (roi_end - roi_start) * (in - 1) / (out_f - 1)
                     : 0.5 * (roi_start + roi_end) * (in - 1);
  }
  if (m == "half_pixel_symmetric") {
    double adj = (double)out / out_f;
    double center = in / 2.0;
    double offset = center * (1 - adj);
    return offset + (x + 0.5) / scale - 0.5;
  }
  return (x + 0.5) / scale - 0.5;  // half_pixel
}

// Resize-10's nearest mode (no nearest_mode attribute yet): rounds down when upsampling and
// up when downsampling, as ONNX's test_resize_downsample_nearest and ONNX Runtime do.
constexpr const char* kOpset10Nearest = "dopt.opset10";

int64_t NearestIndex(const ResizeSpec& s, double x, double scale) {
  const std::string& m = s.nearest_mode;
  if (m == kOpset10Nearest) return (int64_t)(scale >= 1.0 ? std::floor(x) : std::ceil(x));
  if (m == "floor") return (int64_t)std::floor(x);
  if (m == "ceil") return (int64_t)std::ceil(x);
  double f = std::floor(x);
  double r = x - f;
  if (r == 0.5) return m == "round_prefer_ceil" ? (int64_t)f + 1 : (int64_t)f;
  return (int64_t)std::floor(x + 0.5);
}

DimTable BuildTable(const ResizeSpec& s, int64_t in, int64_t out, double scale, double roi_start, double roi_end) {
  DimTable t;
  const bool nearest = s.mode == "nearest";
  const bool cubic = s.mode == "cubic";
  t.k = nearest ? 1 : cubic ? 4 : 2;
  t.idx.assign(out * t.k, 0);
  t.w.assign(out * t.k, 0.0);
  t.outside.assign(out, 0);
  const double A = s.cubic_a;
  for (int64_t o = 0; o < out; ++o) {
    double x = CoordOf(s, o, in, out, scale, roi_start, roi_end);
    if (s.coord_mode == "tf_crop_and_resize" && (x < 0 || x > in - 1)) {
      t.outside[o] = 1;
      for (int k = 0; k < t.k; ++k) t.w[o * t.k + k] = 0;
      continue;
    }
    int64_t* ip = &t.idx[o * t.k];
    double* wp = &t.w[o * t.k];
    if (nearest) {
      ip[0] = std::min(std::max<int64_t>(NearestIndex(s, x, scale), 0), in - 1);
      wp[0] = 1;
      continue;
    }
    double f = std::floor(x);
    double r = x - f;
    int64_t x0 = (int64_t)f;
    if (!cubic) {
      ip[0] = x0;
      ip[1] = x0 + 1;
      wp[0] = 1 - r;
      wp[1] = r;
    } else {
      double c[4] = {((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A,
                     ((A + 2) * r - (A + 3)) * r * r + 1,
                     ((A + 2) * (1 - r) - (A + 3)) * (1 - r) * (1 - r) + 1,
                     ((A * (2 - r) - 5 * A) * (2 - r) + 8 * A) * (2 - r) - 4 * A};
      for (int k = 0; k < 4; ++k) {
        ip[k] = x0 - 1 + k;
        wp[k] = c[k];
      }
    }
    if (s.exclude_outside) {
      double sum = 0;
      for (int k = 0; k < t.k; ++k) {
        if (ip[k] < 0 || ip[k] >= in) wp[k] = 0;
        sum += wp[k];
      }
      if (sum != 0)
        for (int k = 0; k < t.k; ++k) wp[k] /= sum;
    }
    for (int k = 0; k < t.k; ++k) ip[k] = std::min(std::max<int64_t>(ip[k], 0), in - 1);
  }
  // Dims where every output reads one input with weight 1 (e.g. unscaled N and C) use K = 1.
  if (t.k > 1) {
    bool single = true;
    for (int64_t o = 0; o < out && single; ++o) {
      int nz = 0;
      for (int k = 0; k < t.k; ++k)
        if (t.w[o * t.k + k] != 0) ++nz;
      if (nz > 1) single = false;
    }
    if (single) {
      DimTable c;
      c.k = 1;
      c.idx.resize(out);
      c.w.resize(out);
      c.outside = t.outside;
      for (int64_t o = 0; o < out; ++o) {
        c.idx[o] = t.idx[o * t.k];
        c.w[o] = 0;
        for (int k = 0; k < t.k; ++k) {
          if (t.w[o * t.k + k] != 0) {
            c.idx[o] = t.idx[o * t.k + k];
            c.w[o] = t.w[o * t.k + k];
          }
        }
      }
      return c;
    }
  }
  return t;
}

template <typename T>
T FromDouble(double v) {
  if constexpr (std::is_floating_point<T>::value) {
    return (T)v;
  } else {
    double r = std::nearbyint(v);
    r = std::min<double>(std::max<double>(r, (double)std::numeric_limits<T>::lowest()),
                         (double)std::numeric_limits<T>::max());
    return (T)r;
  }
}

// Interpolating kernel for element type T (float or integer; integers round and saturate).
template <typename T>
void Interpolate(const T* xp, T* yp, const Shape& in, const Shape& out, const std::vector<DimTable>& tabs,
                 double extrap, ThreadPool* pool) {
  const int rank = (int)in.size();
  std::vector<int64_t> stride(rank, 1);
  for (int d = rank - 2; d >= 0; --d) stride[d] = stride[d + 1] * in[d + 1];
  const int64_t out_last = out[rank - 1];
  int64_t rows = 1;
  for (int d = 0; d < rank - 1; ++d) rows *= out[d];
  const DimTable& lt = tabs[rank - 1];
  const T ext = FromDouble<T>(extrap);
  const int lk = lt.k;
  std::vector<float> lw(lt.w.begin(), lt.w.end());
  bool last_outside = false;
  for (uint8_t o : lt.outside) last_outside |= o != 0;
  // Rows of the input interpolated along the last dim, by input offset (per task: the rows
  // of a task are consecutive, so the few most recent cover the next output row).
  struct RowCache {
    int64_t off = -1;
    std::vector<float> row;
  };
  int64_t combos = 1;
  for (int d = 0; d < rank - 1; ++d) combos *= tabs[d].k;
  auto body = [&](int64_t r0, int64_t r1) {
    std::vector<int64_t> offs, no;
    std::vector<float> ws, nw;
    std::vector<float> acc(out_last);
    std::vector<RowCache> cache((size_t)std::max<int64_t>(4, 2 * combos));
    size_t next_slot = 0;
    std::vector<int64_t> oidx(rank > 1 ? rank - 1 : 0);
    for (int64_t row = r0; row < r1; ++row) {
      T* dst = yp + row * out_last;
      int64_t rem = row;
      bool outside = false;
      for (int d = rank - 2; d >= 0; --d) {
        oidx[d] = rem % out[d];
        rem /= out[d];
        if (tabs[d].outside[oidx[d]]) outside = true;
      }
      if (outside) {
        std::fill(dst, dst + out_last, ext);
        continue;
      }
      // All (offset, weight) combinations over the outer dims.
      offs.assign(1, 0);
      ws.assign(1, 1.f);
      for (int d = 0; d < rank - 1; ++d) {
        const DimTable& t = tabs[d];
        no.clear();
        nw.clear();
        for (size_t c = 0; c < offs.size(); ++c) {
          for (int k = 0; k < t.k; ++k) {
            double w = t.w[oidx[d] * t.k + k];
            if (w == 0 && t.k > 1) continue;
            no.push_back(offs[c] + t.idx[oidx[d] * t.k + k] * stride[d]);
            nw.push_back((float)(ws[c] * w));
          }
        }
        offs.swap(no);
        ws.swap(nw);
      }
      std::fill(acc.begin(), acc.end(), 0.f);
      for (size_t c = 0; c < offs.size(); ++c) {
        const T* sp = xp + offs[c];
        const float wc = ws[c];
        const int64_t* ip = lt.idx.data();
        const float* wp = lw.data();
        if (lk == 1) {
          for (int64_t j = 0; j < out_last; ++j) acc[j] += wc * wp[j] * (float)sp[ip[j]];
          continue;
        }
        // The input row interpolated along the last dim, a = sum_k w * x: kept for the next
        // output rows, which mostly read the same input rows (an upsampling reads each one
        // for about `scale` output rows); the same values as computing it in place.
        const float* a = nullptr;
        for (RowCache& rc : cache)
          if (rc.off == offs[c]) a = rc.row.data();
        if (!a) {
          RowCache& rc = cache[next_slot];
          next_slot = (next_slot + 1) % cache.size();
          rc.off = offs[c];
          rc.row.resize((size_t)out_last);
          float* r = rc.row.data();
          if (lk == 2) {
            for (int64_t j = 0; j < out_last; ++j)
              r[j] = wp[2 * j] * (float)sp[ip[2 * j]] + wp[2 * j + 1] * (float)sp[ip[2 * j + 1]];
          } else {
            for (int64_t j = 0; j < out_last; ++j) {
              float v = 0;
              for (int k = 0; k < lk; ++k) v += wp[j * lk + k] * (float)sp[ip[j * lk + k]];
              r[j] = v;
            }
          }
          a = r;
        }
        float* accp = acc.data();
        for (int64_t j = 0; j < out_last; ++j) accp[j] += wc * a[j];
      }
      for (int64_t j = 0; j < out_last; ++j) dst[j] = FromDouble<T>(acc[j]);
      if (last_outside) {
        for (int64_t j = 0; j < out_last; ++j)
          if (lt.outside[j]) dst[j] = ext;
      }
    }
  };
  if (pool) pool->ParallelFor(rows, std::max<int64_t>(1, (1 << 12) / std::max<int64_t>(out_last, 1)), body);
  else body(0, rows);
}

// Nearest on raw elements of any type: every table has K = 1.
template <typename T>
void NearestCopy(const T* xp, T* yp, const Shape& in, const Shape& out, const std::vector<DimTable>& tabs,
                 const T& ext, ThreadPool* pool) {
  const int rank = (int)in.size();
  std::vector<int64_t> stride(rank, 1);
  for (int d = rank - 2; d >= 0; --d) stride[d] = stride[d + 1] * in[d + 1];
  const int64_t out_last = out[rank - 1];
  int64_t rows = 1;
  for (int d = 0; d < rank - 1; ++d) rows *= out[d];
  const DimTable& lt = tabs[rank - 1];
  bool last_outside = false;
  for (uint8_t o : lt.outside) last_outside |= o != 0;
  // The last dim unchanged (e.g. the channels of channels-last data): rows are plain copies.
  bool last_identity = !last_outside && out_last == in[rank - 1];
  for (int64_t j = 0; last_identity && j < out_last; ++j) last_identity = lt.idx[(size_t)j] == j;
  auto body = [&](int64_t r0, int64_t r1) {
    for (int64_t row = r0; row < r1; ++row) {
      T* dst = yp + row * out_last;
      int64_t rem = row, off = 0;
      bool outside = false;
      for (int d = rank - 2; d >= 0; --d) {
        int64_t i = rem % out[d];
        rem /= out[d];
        if (tabs[d].outside[i]) outside = true;
        off += tabs[d].idx[i] * stride[d];
      }
      if (outside) {
        std::fill(dst, dst + out_last, ext);
        continue;
      }
      const T* src = xp + off;
      const int64_t* ip = lt.idx.data();
      if (last_identity) {
        std::copy(src, src + out_last, dst);
      } else if (last_outside) {
        for (int64_t j = 0; j < out_last; ++j) dst[j] = lt.outside[j] ? ext : src[ip[j]];
      } else {
        for (int64_t j = 0; j < out_last; ++j) dst[j] = src[ip[j]];
      }
    }
  };
  if (pool) pool->ParallelFor(rows, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(out_last, 1)), body);
  else body(0, rows);
}

}  // namespace

Status RunResizeKernel(const Node& node, const Tensor& x, const ResizeSpec& spec, Tensor* y, ThreadPool* pool) {
  const int rank = x.rank();
  if ((int)spec.scales.size() != rank || (int)spec.out_shape.size() != rank) {
    return Internal(node.Describe() + ": resize scales/output rank mismatch");
  }
  if (spec.mode != "nearest" && spec.mode != "linear" && spec.mode != "cubic") {
    return InvalidArgument(node.Describe() + ": unknown mode '" + spec.mode + "'");
  }
  static const char* kModes[] = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
                                 "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"};
  if (std::find_if(std::begin(kModes), std::end(kModes), [&](const char* m) { return spec.coord_mode == m; }) ==
      std::end(kModes)) {
    return InvalidArgument(node.Describe() + ": unknown coordinate_transformation_mode '" + spec.coord_mode + "'");
  }
  static const char* kNearest[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil", kOpset10Nearest};
  if (std::find_if(std::begin(kNearest), std::end(kNearest), [&](const char* m) { return spec.nearest_mode == m; }) ==
      std::end(kNearest)) {
    return InvalidArgument(node.Describe() + ": unknown nearest_mode '" + spec.nearest_mode + "'");
  }
  for (int d = 0; d < rank; ++d) {
    if (!(spec.scales[d] > 0)) {
      return InvalidArgument(node.Describe() + ": scale " + std::to_string(spec.scales[d]) + " for dim " +
                             std::to_string(d) + " must be positive");
    }
    if (x.dim(d) == 0 && spec.out_shape[d] > 0) {
      return InvalidArgument(node.Describe() + ": cannot resize an empty dim to size " +
                             std::to_string(spec.out_shape[d]));
    }
  }
  *y = Tensor(x.dtype(), spec.out_shape);
  if (y->numel() == 0) return Status::Ok();
  if (rank == 0) {
    std::memcpy(y->raw(), x.raw(), x.nbytes());
    return Status::Ok();
  }
  const bool crop = spec.coord_mode == "tf_crop_and_resize";
  if (crop && (int)spec.roi.size() != 2 * rank) {
    return InvalidArgument(node.Describe() + ": tf_crop_and_resize needs roi with " + std::to_string(2 * rank) +
                           " values, got " + std::to_string(spec.roi.size()));
  }
  std::vector<DimTable> tabs(rank);
  for (int d = 0; d < rank; ++d) {
    tabs[d] = BuildTable(spec, x.dim(d), spec.out_shape[d], spec.scales[d], crop ? spec.roi[d] : 0.0,
                         crop ? spec.roi[d + rank] : 1.0);
  }
  bool all_single = true;
  for (const DimTable& t : tabs)
    if (t.k != 1) all_single = false;
  if (spec.mode == "nearest" || all_single) {
    // Weights are all 1 (or the point is outside): a pure gather.
    Tensor ext = Tensor::Scalar(spec.extrapolation_value);
    if (x.dtype() != DType::kFloat32) ext = ext.CastTo(x.dtype());
    bool ok = DispatchByElemSize(DTypeSize(x.dtype()), [&](auto tag) {
      using T = decltype(tag);
      T e;
      std::memcpy(&e, ext.raw(), sizeof(T));
      NearestCopy<T>(x.data<T>(), y->data<T>(), x.shape(), spec.out_shape, tabs, e, pool);
    });
    if (!ok) return InvalidArgument(node.Describe() + ": unsupported type " + DTypeName(x.dtype()));
    return Status::Ok();
  }
  switch (x.dtype()) {
    case DType::kFloat32:
      Interpolate<float>(x.data<float>(), y->data<float>(), x.shape(), spec.out_shape, tabs, spec.extrapolation_value, pool);
      return Status::Ok();
    case DType::kUInt8:
      Interpolate<uint8_t>(x.data<uint8_t>(), y->data<uint8_t>(), x.shape(), spec.out_shape, tabs,
                           spec.extrapolation_value, pool);
      return Status::Ok();
    case DType::kInt8:
      Interpolate<int8_t>(x.data<int8_t>(), y->data<int8_t>(), x.shape(), spec.out_shape, tabs,
                          spec.extrapolation_value, pool);
      return Status::Ok();
    case DType::kInt32:
      Interpolate<int32_t>(x.data<int32_t>(), y->data<int32_t>(), x.shape(), spec.out_shape, tabs,
                           spec.extrapolation_value, pool);
      return Status::Ok();
    default:
      return InvalidArgument(node.Describe() + ": " + spec.mode + " mode does not support type " +
                             DTypeName(x.dtype()));
  }
}

namespace {

struct ResizeInputs {
  const Tensor* roi = nullptr;
  const Tensor* scales = nullptr;  // nullptr when absent or empty
  const Tensor* sizes = nullptr;
  bool unknown = false;            // a present input's value is not known (shape inference)
};

// in_shape dims may be -1; then the matching output dims are -1.
Status ComputeOutput(const Node& node, const Shape& in, const ResizeInputs& ri, Shape* out,
                     std::vector<float>* scales) {
  const int rank = (int)in.size();
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> axes, node.GetInts("axes"));
  if (axes.empty())
    for (int d = 0; d < rank; ++d) axes.push_back(d);
  for (int64_t& a : axes) {
    if (a < -rank || a >= rank) {
      return InvalidArgument(node.Describe() + ": axis " + std::to_string(a) + " is out of range for rank " +
                             std::to_string(rank));
    }
    if (a < 0) a += rank;
  }
  const size_t na = axes.size();
  *out = in;
  scales->assign(rank, 1.f);
  if (ri.sizes) {
    std::vector<int64_t> sz = ri.sizes->ToInt64Vector();
    if (sz.size() != na) {
      return InvalidArgument(node.Describe() + ": sizes has " + std::to_string(sz.size()) + " values, expected " +
                             std::to_string(na));
    }
    DOPT_ASSIGN_OR_RETURN(std::string policy, node.GetString("keep_aspect_ratio_policy", "stretch"));
    if (policy == "stretch") {
      for (size_t i = 0; i < na; ++i) {
        if (sz[i] < 0) return InvalidArgument(node.Describe() + ": negative size " + std::to_string(sz[i]));
        (*out)[axes[i]] = sz[i];
        (*scales)[axes[i]] = in[axes[i]] > 0 ? (float)sz[i] / (float)in[axes[i]] : 1.f;
      }
    } else if (policy == "not_larger" || policy == "not_smaller") {
      double s = policy == "not_larger" ? 1e300 : 0;
      for (size_t i = 0; i < na; ++i) {
        if (in[axes[i]] <= 0) {
          for (size_t k = 0; k < na; ++k) (*out)[axes[k]] = -1;
          return Status::Ok();
        }
        double r = (double)sz[i] / (double)in[axes[i]];
        s = policy == "not_larger" ? std::min(s, r) : std::max(s, r);
      }
      for (size_t i = 0; i < na; ++i) {
        (*out)[axes[i]] = (int64_t)std::floor(s * in[axes[i]] + 0.5);
        (*scales)[axes[i]] = (float)s;
      }
    } else {
      return InvalidArgument(node.Describe() + ": unknown keep_aspect_ratio_policy '" + policy + "'");
    }
  } else if (ri.scales) {
    std::vector<double> sc = ri.scales->ToDoubleVector();
    if (sc.size() != na) {
      return InvalidArgument(node.Describe() + ": scales has " + std::to_string(sc.size()) + " values, expected " +
                             std::to_string(na));
    }
    for (size_t i = 0; i < na; ++i) {
      if (!(sc[i] > 0)) return InvalidArgument(node.Describe() + ": scale " + std::to_string(sc[i]) + " must be positive");
      (*scales)[axes[i]] = (float)sc[i];
      int64_t d = in[axes[i]];
      (*out)[axes[i]] = d < 0 ? -1 : (int64_t)std::floor((double)d * (double)(float)sc[i]);
    }
  } else {
    return InvalidArgument(node.Describe() + ": needs scales or sizes");
  }
  return Status::Ok();
}

// Indices of the roi / scales / sizes inputs for this opset (-1: none).
void InputSlots(const Node& node, int* roi, int* scales, int* sizes) {
  if (node.opset_version > 0 && node.opset_version < 11) {
    *roi = -1;
    *scales = 1;
    *sizes = -1;
  } else {
    *roi = 1;
    *scales = 2;
    *sizes = 3;
  }
}

Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  const ValueInfo& x = ctx.input(0);
  int roi_i, sc_i, sz_i;
  InputSlots(node, &roi_i, &sc_i, &sz_i);
  ResizeInputs ri;
  if (sz_i >= 0 && ctx.has_input(sz_i)) {
    DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, sz_i, {DType::kInt64}));
    if (!ctx.input(sz_i).value) ri.unknown = true;
    else if (ctx.input(sz_i).value->numel() > 0) ri.sizes = ctx.input(sz_i).value;
  }
  if (!ri.sizes && ctx.has_input(sc_i)) {
    DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, sc_i, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
    if (!ctx.input(sc_i).value) ri.unknown = true;
    else if (ctx.input(sc_i).value->numel() > 0) ri.scales = ctx.input(sc_i).value;
  }
  if (!x.rank_known) {
    ctx.SetOutputUnknownRank(0, x.dtype);
    return Status::Ok();
  }
  if (!ri.sizes && !ri.scales) {
    if (!ri.unknown) return InvalidArgument(node.Describe() + ": needs scales or sizes");
    ctx.SetOutput(0, x.dtype, Shape(x.shape.size(), -1));
    return Status::Ok();
  }
  Shape out;
  std::vector<float> scales;
  DOPT_RETURN_IF_ERROR(ComputeOutput(node, x.shape, ri, &out, &scales));
  ctx.SetOutput(0, x.dtype, out);
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  const Tensor& x = ctx.input(0);
  int roi_i, sc_i, sz_i;
  InputSlots(node, &roi_i, &sc_i, &sz_i);
  ResizeInputs ri;
  if (sz_i >= 0 && ctx.has_input(sz_i) && ctx.input(sz_i).numel() > 0) ri.sizes = &ctx.input(sz_i);
  if (!ri.sizes && ctx.has_input(sc_i) && ctx.input(sc_i).numel() > 0) ri.scales = &ctx.input(sc_i);
  ResizeSpec spec;
  DOPT_RETURN_IF_ERROR(ComputeOutput(node, x.shape(), ri, &spec.out_shape, &spec.scales));
  DOPT_ASSIGN_OR_RETURN(spec.mode, node.GetString("mode", "nearest"));
  // Resize-10: asymmetric coordinates; nearest rounds down when upsampling, up when
  // downsampling (see kOpset10Nearest).
  const bool old = node.opset_version > 0 && node.opset_version < 11;
  DOPT_ASSIGN_OR_RETURN(spec.coord_mode, node.GetString("coordinate_transformation_mode",
                                                         old ? "asymmetric" : "half_pixel"));
  DOPT_ASSIGN_OR_RETURN(spec.nearest_mode, node.GetString("nearest_mode", old ? kOpset10Nearest : "round_prefer_floor"));
  DOPT_ASSIGN_OR_RETURN(spec.cubic_a, node.GetFloat("cubic_coeff_a", -0.75f));
  DOPT_ASSIGN_OR_RETURN(int64_t excl, node.GetInt("exclude_outside", 0));
  spec.exclude_outside = excl != 0;
  DOPT_ASSIGN_OR_RETURN(spec.extrapolation_value, node.GetFloat("extrapolation_value", 0.f));
  DOPT_ASSIGN_OR_RETURN(int64_t antialias, node.GetInt("antialias", 0));
  if (antialias != 0 && spec.mode != "nearest") {
    for (float s : spec.scales) {
      if (s < 1.f) return Unimplemented(node.Describe() + ": antialias=1 when downsampling is not supported");
    }
  }
  if (spec.coord_mode == "tf_crop_and_resize") {
    if (roi_i < 0 || !ctx.has_input(roi_i)) {
      return InvalidArgument(node.Describe() + ": tf_crop_and_resize needs the roi input");
    }
    std::vector<double> roi = ctx.input(roi_i).ToDoubleVector();
    const int rank = x.rank();
    DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> axes, node.GetInts("axes"));
    if (axes.empty()) {
      spec.roi.assign(roi.begin(), roi.end());
    } else {
      if (roi.size() != 2 * axes.size()) return InvalidArgument(node.Describe() + ": roi must have 2 values per axis");
      spec.roi.assign(2 * rank, 0.f);
      for (int d = 0; d < rank; ++d) spec.roi[d + rank] = 1.f;
      for (size_t i = 0; i < axes.size(); ++i) {
        int64_t a = axes[i] < 0 ? axes[i] + rank : axes[i];
        spec.roi[a] = (float)roi[i];
        spec.roi[a + rank] = (float)roi[i + axes.size()];
      }
    }
  }
  Tensor y;
  DOPT_RETURN_IF_ERROR(RunResizeKernel(node, x, spec, &y, ctx.pool()));
  ctx.SetOutput(0, std::move(y));
  return Status::Ok();
}

// Channels-last: nearest sampling of 4-D float data treats each dim alone, by that dim's
// scale / size only, so [N, H, W, C] data with the scales or sizes permuted the same way gives
// the permuted result exactly. Not with `axes` or tf_crop_and_resize (roi) or other modes.
bool ChannelsLast(const Graph& g, const Node& n, ChannelsLastPlan* plan) {
  auto mode = n.GetString("mode", "nearest");
  auto coord = n.GetString("coordinate_transformation_mode", "");
  if (!mode.ok() || *mode != "nearest" || !coord.ok() || *coord == "tf_crop_and_resize" || n.HasAttr("axes")) {
    return false;
  }
  ChannelsLastPlan p;
  if (!Input0ChannelsLast(g, n, &p)) return false;  // the kernel is layout-blind: no attribute
  const Shape from = ToChannelsLast({0, 1, 2, 3});  // entry d of the permuted vector is entry from[d]
  int roi_i, sc_i, sz_i;
  InputSlots(n, &roi_i, &sc_i, &sz_i);
  for (int i : {sc_i, sz_i}) {
    if (i < 0 || i >= (int)n.inputs.size() || n.inputs[(size_t)i] < 0) continue;
    const Tensor* c = g.value(n.inputs[(size_t)i]).ConstantValue();
    if (!c) return false;
    if (c->numel() == 0) continue;
    if (c->rank() != 1 || c->numel() != 4) return false;
    Tensor t = c->Clone();
    const size_t es = DTypeSize(c->dtype());
    const auto* src = static_cast<const uint8_t*>(c->raw());
    auto* dst = static_cast<uint8_t*>(t.raw());
    for (int d = 0; d < 4; ++d) std::memcpy(dst + d * es, src + (size_t)from[(size_t)d] * es, es);
    p.constants.push_back({i, std::move(t)});
  }
  *plan = std::move(p);
  return true;
}

// Opset upgrade: 11 (below); 13: roi and scales optional, types; 18: antialias, axes,
// keep_aspect_ratio_policy; 19: the half_pixel_symmetric mode: optional attributes with the old
// defaults (ONNX's version converter: compatible).
Status Upgrade(Graph& g, int ni, int from, int to) {
  if (!OpsetCrosses(from, to, 11)) return Status::Ok();
  return UpgradeResize10To11(g, ni, to, false);
}

// Quantization: nearest sampling selects elements (tf_crop_and_resize also writes
// extrapolation_value, which need not lie on the input's grid); the other modes interpolate.
bool SharesScale(const Graph&, const Node& n) {
  auto mode = n.GetString("mode", "nearest");
  auto coord = n.GetString("coordinate_transformation_mode", "half_pixel");
  return mode.ok() && coord.ok() && *mode == "nearest" && *coord != "tf_crop_and_resize";
}

}  // namespace

// Resize 11: inputs (X, scales) -> (X, roi, scales), coordinate_transformation_mode =
// asymmetric. Resize-10's nearest rounds x / scale down when upsampling and up when
// downsampling (ONNX's test_resize_downsample_nearest, and ONNX Runtime); nearest_mode
// applies to every axis, so scales mixing both become two Resizes (nearest is separable).
// ONNX's version converter sets floor throughout, which is wrong for downsampling.
Status UpgradeResize10To11(Graph& g, int ni, int to, bool upsample_only) {
  Node& n = g.nodes[ni];
  DOPT_RETURN_IF_ERROR(NeedUpgradeInputs(n, 2));
  if (n.inputs.size() != 2 || n.inputs[1] < 0)
    return InvalidArgument(n.Describe() + ": cannot upgrade: Resize-10 takes exactly 2 inputs (X, scales)");
  DOPT_ASSIGN_OR_RETURN(std::string mode, n.GetString("mode", "nearest"));
  if (mode != "nearest" && mode != "linear")
    return InvalidArgument(n.Describe() + ": cannot upgrade: unknown mode '" + mode + "'");
  n.dirty = true;
  std::vector<float> down, up;  // nearest: scales split into the < 1 and the >= 1 parts
  if (mode == "nearest" && !upsample_only) {
    const Tensor* sc = g.value(n.inputs[1]).ConstantValue();
    if (!sc || ComputeDType(sc->dtype()) != DType::kFloat32)
      return InvalidArgument(n.Describe() + ": cannot upgrade: nearest Resize-10 needs constant float scales (its "
                             "rounding depends on whether each scale is below 1)");
    Tensor f = ToComputeDType(*sc);
    for (int64_t i = 0; i < f.numel(); ++i) {
      float v = f.data<float>()[i];
      down.push_back(v < 1.f ? v : 1.f);
      up.push_back(v < 1.f ? 1.f : v);
    }
  }
  bool has_down = std::any_of(down.begin(), down.end(), [](float v) { return v != 1.f; });
  bool has_up = std::any_of(up.begin(), up.end(), [](float v) { return v != 1.f; });
  auto roi = [&]() {  // Resize 11 and 12 require the roi input; an empty one is "none"
    return to < 13 ? AddInitializer(g, g.nodes[ni].name + "_roi", Tensor(DType::kFloat32, {0})) : -1;
  };
  auto attrs = [&](const char* nearest_mode) {
    AttrList a = {{"mode", StringAttr(mode)}, {"coordinate_transformation_mode", StringAttr("asymmetric")}};
    if (mode == "nearest") a.emplace_back("nearest_mode", StringAttr(nearest_mode));
    return a;
  };
  auto set_attrs = [&](Node& m, const char* nearest_mode) {
    for (auto& [name, a] : attrs(nearest_mode)) SetAttr(m, name, std::move(a));
  };
  if (has_down && has_up) {
    // X -> Resize(down scales, ceil) -> mid -> Resize(up scales, floor) -> Y.
    std::string name = g.nodes[ni].name;
    int r1 = roi();
    int s_down = AddInitializer(g, name + "_scales_down", Tensor::FromFloats({(int64_t)down.size()}, down));
    int r2 = roi();
    int s_up = AddInitializer(g, name + "_scales_up", Tensor::FromFloats({(int64_t)up.size()}, up));
    int mid = AddIntermediate(g, name + "_down");
    Node second = MakeNode("Resize", name + "_up", {mid, r2, s_up}, {g.nodes[ni].outputs[0]}, attrs("floor"), to);
    Node& m = g.nodes[ni];
    m.inputs = {m.inputs[0], r1, s_down};
    m.outputs[0] = mid;
    set_attrs(m, "ceil");
    AddUniqueNode(g, std::move(second));
    return Status::Ok();
  }
  int r = roi();
  Node& m = g.nodes[ni];
  m.inputs = {m.inputs[0], r, m.inputs[1]};
  set_attrs(m, has_down ? "ceil" : "floor");
  return Status::Ok();
}

const OpDef& OpDef_Resize() {
  static const OpDef def{
      .name = "Resize",
      .min_inputs = 1,
      .max_inputs = 4,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .channels_last = ChannelsLast,
      .upgrade = UpgradeBy(Upgrade),
      .quant = SharesInputScale(0, SharesScale),
  };
  return def;
}

}  // namespace dopt
