#include "ops/window_attrs.h"

#include <algorithm>

namespace dopt {

StatusOr<WindowAttrs> ParseWindowAttrs(const Node& node, int nspatial, const std::vector<int64_t>& kernel,
                                       bool allow_ceil) {
  WindowAttrs a;
  a.nspatial = nspatial;
  const std::string who = node.Describe() + ": ";
  DOPT_ASSIGN_OR_RETURN(a.kernel, node.GetInts("kernel_shape", kernel));
  if ((int)a.kernel.size() != nspatial) {
    return InvalidArgument(who + "kernel_shape has " + std::to_string(a.kernel.size()) + " entries, expected " +
                           std::to_string(nspatial) + " (one per spatial dim)");
  }
  for (int64_t k : a.kernel)
    if (k < 1) return InvalidArgument(who + "kernel_shape entries must be >= 1");
  DOPT_ASSIGN_OR_RETURN(a.strides, node.GetInts("strides", std::vector<int64_t>(nspatial, 1)));
  DOPT_ASSIGN_OR_RETURN(a.dilations, node.GetInts("dilations", std::vector<int64_t>(nspatial, 1)));
  DOPT_ASSIGN_OR_RETURN(a.pads, node.GetInts("pads", std::vector<int64_t>(2 * nspatial, 0)));
  DOPT_ASSIGN_OR_RETURN(a.auto_pad, node.GetString("auto_pad", "NOTSET"));
  if (a.strides.empty()) a.strides.assign(nspatial, 1);
  if (a.dilations.empty()) a.dilations.assign(nspatial, 1);
  if (a.pads.empty()) a.pads.assign(2 * nspatial, 0);
  if ((int)a.strides.size() != nspatial) return InvalidArgument(who + "strides must have one entry per spatial dim");
  if ((int)a.dilations.size() != nspatial) return InvalidArgument(who + "dilations must have one entry per spatial dim");
  if ((int)a.pads.size() != 2 * nspatial) return InvalidArgument(who + "pads must have 2 entries per spatial dim");
  for (int i = 0; i < nspatial; ++i) {
    if (a.strides[i] < 1) return InvalidArgument(who + "strides must be >= 1");
    if (a.dilations[i] < 1) return InvalidArgument(who + "dilations must be >= 1");
  }
  for (int64_t p : a.pads)
    if (p < 0) return InvalidArgument(who + "pads must be >= 0");
  if (a.auto_pad != "NOTSET" && a.auto_pad != "SAME_UPPER" && a.auto_pad != "SAME_LOWER" && a.auto_pad != "VALID") {
    return InvalidArgument(who + "unknown auto_pad '" + a.auto_pad + "'");
  }
  int64_t ceil = 0;
  if (allow_ceil) {
    DOPT_ASSIGN_OR_RETURN(ceil, node.GetInt("ceil_mode", 0));
  }
  a.ceil_mode = ceil != 0;
  return a;
}

Status WindowOutput(const Node& node, const WindowAttrs& a, const std::vector<int64_t>& in,
                    std::vector<int64_t>* out, std::vector<int64_t>* pads_out) {
  const int n = a.nspatial;
  out->assign(n, -1);
  *pads_out = a.pads;
  for (int i = 0; i < n; ++i) {
    const int64_t dk = (a.kernel[i] - 1) * a.dilations[i] + 1;
    const int64_t s = a.strides[i];
    if (in[i] < 0) continue;
    if (a.auto_pad == "SAME_UPPER" || a.auto_pad == "SAME_LOWER") {
      int64_t o = (in[i] + s - 1) / s;
      int64_t total = std::max<int64_t>(0, (o - 1) * s + dk - in[i]);
      int64_t small = total / 2, big = total - small;
      (*pads_out)[i] = a.auto_pad == "SAME_UPPER" ? small : big;
      (*pads_out)[i + n] = a.auto_pad == "SAME_UPPER" ? big : small;
      (*out)[i] = o;
      continue;
    }
    if (a.auto_pad == "VALID") {
      (*pads_out)[i] = (*pads_out)[i + n] = 0;
    }
    const int64_t span = in[i] + (*pads_out)[i] + (*pads_out)[i + n] - dk;
    // In ceil mode a window longer than the padded input still gives one output (ceil of a
    // fraction above -1 is 0; transformers' EfficientNet pools 7x7 with a 2560 window), read
    // over the part that lies inside, as in ONNX Runtime and PyTorch.
    if (span < 0 && !(a.ceil_mode && span > -s)) {
      return InvalidArgument(node.Describe() + ": window of size " + std::to_string(dk) + " does not fit spatial dim " +
                             std::to_string(i) + " of size " + std::to_string(in[i]) + " with its pads");
    }
    int64_t o;
    if (a.ceil_mode) {
      o = span < 0 ? 1 : (span + s - 1) / s + 1;
      // The last window must start inside the input or the begin padding.
      if ((o - 1) * s >= in[i] + (*pads_out)[i]) --o;
    } else {
      o = span / s + 1;
    }
    (*out)[i] = o;
  }
  return Status::Ok();
}

StatusOr<PoolPlan> PlanPool(const Node& node, const Shape& x) {
  if (x.size() < 3) return InvalidArgument(node.Describe() + ": input X must have rank >= 3, got " + ShapeToString(x));
  const int ns = (int)x.size() - 2;
  if (ns > 3) return Unimplemented(node.Describe() + ": pooling over more than 3 spatial dims");
  if (!node.HasAttr("kernel_shape")) return InvalidArgument(node.Describe() + ": kernel_shape is required");
  PoolPlan p;
  DOPT_ASSIGN_OR_RETURN(p.attrs, ParseWindowAttrs(node, ns, {}, true));
  std::vector<int64_t> in(x.begin() + 2, x.end());
  DOPT_RETURN_IF_ERROR(WindowOutput(node, p.attrs, in, &p.out, &p.pads));
  p.out_shape = {x[0], x[1]};
  p.out_shape.insert(p.out_shape.end(), p.out.begin(), p.out.end());
  return p;
}

// x, w: shapes (may contain -1). Rank of x must be known and >= 3.
StatusOr<ConvPlan> PlanConv(const Node& node, const Shape& x, const Shape& w, bool w_rank_known) {
  ConvPlan p;
  const std::string who = node.Describe() + ": ";
  DOPT_ASSIGN_OR_RETURN(p.group, node.GetInt("group", 1));
  if (p.group < 1) return InvalidArgument(who + "group must be >= 1");
  if (x.size() < 3) return InvalidArgument(who + "input X must have rank >= 3 (N, C, spatial...), got " + ShapeToString(x));
  const int ns = (int)x.size() - 2;
  if (ns > 3) return Unimplemented(who + "convolution over more than 3 spatial dims");
  if (w_rank_known && w.size() != x.size()) {
    return InvalidArgument(who + "weights W " + ShapeToString(w) + " must have the rank of X " + ShapeToString(x));
  }
  std::vector<int64_t> wk;
  bool kernel_known = true;
  if (w_rank_known) {
    for (int i = 0; i < ns; ++i) wk.push_back(w[2 + i]);
    for (int64_t k : wk) if (k < 0) kernel_known = false;
  } else {
    kernel_known = false;
  }
  if (!kernel_known && !node.HasAttr("kernel_shape")) wk.assign(ns, 1);  // placeholder; output unknown
  DOPT_ASSIGN_OR_RETURN(p.attrs, ParseWindowAttrs(node, ns, wk, false));
  if (kernel_known && node.HasAttr("kernel_shape")) {
    for (int i = 0; i < ns; ++i)
      if (p.attrs.kernel[i] != wk[i]) {
        return InvalidArgument(who + "kernel_shape does not match the spatial dims of W " + ShapeToString(w));
      }
  }
  if (kernel_known || node.HasAttr("kernel_shape")) {
    std::vector<int64_t> in(x.begin() + 2, x.end()), out;
    DOPT_RETURN_IF_ERROR(WindowOutput(node, p.attrs, in, &out, &p.pads));
    p.out_shape = {x[0], -1};
    p.out_shape.insert(p.out_shape.end(), out.begin(), out.end());
  } else {
    p.out_shape.assign(x.size(), -1);
    p.out_shape[0] = x[0];
  }
  if (w_rank_known) {
    p.out_shape[1] = w[0];
    if (x[1] >= 0 && w[1] >= 0 && x[1] != w[1] * p.group) {
      return InvalidArgument(who + "input X has " + std::to_string(x[1]) + " channels but W " + ShapeToString(w) +
                             " with group=" + std::to_string(p.group) + " expects " + std::to_string(w[1] * p.group));
    }
    if (w[0] >= 0 && w[0] % p.group != 0) {
      return InvalidArgument(who + "W has " + std::to_string(w[0]) + " output channels, not divisible by group=" +
                             std::to_string(p.group));
    }
  }
  return p;
}

Status InferConvOutput(InferContext& ctx, int x_input, int w_input, DType out_dtype) {
  const ValueInfo& x = ctx.input(x_input);
  const ValueInfo& w = ctx.input(w_input);
  if (!x.rank_known) {
    if (w.rank_known) {
      if (w.shape.size() < 3) {
        return InvalidArgument(ctx.node().Describe() + ": weights W must have rank >= 3, got " + ShapeToString(w.shape));
      }
      Shape s(w.shape.size(), -1);
      s[1] = w.shape[0];
      ctx.SetOutput(0, out_dtype, s);
    } else {
      ctx.SetOutputUnknownRank(0, out_dtype);
    }
    return Status::Ok();
  }
  DOPT_ASSIGN_OR_RETURN(ConvPlan p, PlanConv(ctx.node(), x.shape, w.shape, w.rank_known));
  ctx.SetOutput(0, out_dtype, p.out_shape);
  return Status::Ok();
}

kernels::PoolGeom PoolGeometry(const PoolPlan& p, const Shape& x, bool channels_last) {
  kernels::PoolGeom g;
  g.planes = channels_last ? x[0] : x[0] * x[1];
  g.Set(std::vector<int64_t>(x.begin() + 2, x.end()), p.out, p.attrs.kernel, p.attrs.strides, p.attrs.dilations,
        p.pads);
  return g;
}

}  // namespace dopt
