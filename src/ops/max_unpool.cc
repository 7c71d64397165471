// MaxUnpool: the partial inverse of MaxPool. Y is zero except Y.flat[I[i]] = X[i], I being
// MaxPool's Indices: flat positions in the inferred shape, (in - 1) * stride + kernel -
// pad_begin - pad_end per spatial dim. The optional output_shape input may be larger: the
// inferred block then sits at its origin (as in ONNX's reference implementation). Indices repeating write in
// order (the last wins), single-threaded, so the result never depends on the thread count.
#include <string>

#include "ops/op_util.h"

namespace dopt {
namespace {

struct Attrs {
  std::vector<int64_t> kernel, strides, pads;
};

StatusOr<Attrs> GetAttrs(const Node& node, int spatial) {
  Attrs a;
  if (!node.HasAttr("kernel_shape")) return InvalidArgument(node.Describe() + ": missing attribute kernel_shape");
  DOPT_ASSIGN_OR_RETURN(a.kernel, node.GetInts("kernel_shape"));
  DOPT_ASSIGN_OR_RETURN(a.strides, node.GetInts("strides", std::vector<int64_t>(spatial, 1)));
  DOPT_ASSIGN_OR_RETURN(a.pads, node.GetInts("pads", std::vector<int64_t>(2 * spatial, 0)));
  if ((int)a.kernel.size() != spatial || (int)a.strides.size() != spatial || (int)a.pads.size() != 2 * spatial) {
    return InvalidArgument(node.Describe() + ": kernel_shape, strides and pads must have " + std::to_string(spatial) +
                           ", " + std::to_string(spatial) + " and " + std::to_string(2 * spatial) + " entries");
  }
  for (int i = 0; i < spatial; ++i) {
    if (a.kernel[i] < 1 || a.strides[i] < 1 || a.pads[i] < 0 || a.pads[i + spatial] < 0) {
      return InvalidArgument(node.Describe() + ": kernel_shape and strides must be >= 1 and pads >= 0");
    }
  }
  return a;
}

// The default output shape from X's shape (unknown dims stay -1).
StatusOr<Shape> DefaultShape(const Node& node, const Shape& x) {
  const int spatial = (int)x.size() - 2;
  DOPT_ASSIGN_OR_RETURN(Attrs a, GetAttrs(node, spatial));
  Shape out = x;
  for (int i = 0; i < spatial; ++i) {
    const int64_t in = x[i + 2];
    out[i + 2] = in < 0 ? -1 : (in - 1) * a.strides[i] + a.kernel[i] - a.pads[i] - a.pads[i + spatial];
    if (in >= 0 && out[i + 2] < 0) return InvalidArgument(node.Describe() + ": negative output size for " + ShapeToString(x));
  }
  return out;
}

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kInt64}));
  if (ctx.has_input(2)) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 2, {DType::kInt64}));
  const ValueInfo& x = ctx.input(0);
  if (!x.rank_known) {
    ctx.SetOutputUnknownRank(0, x.dtype);
    return Status::Ok();
  }
  if (x.shape.size() < 3) {
    return InvalidArgument(ctx.node().Describe() + ": input X must have rank >= 3, got " + ShapeToString(x.shape));
  }
  DOPT_ASSIGN_OR_RETURN(Shape out, DefaultShape(ctx.node(), x.shape));
  if (ctx.has_input(2)) {
    const ValueInfo& os = ctx.input(2);
    if (os.value) {
      out = os.value->ToInt64Vector();
      if (out.size() != x.shape.size()) {
        return InvalidArgument(ctx.node().Describe() + ": output_shape " + ShapeToString(out) + " for X of rank " +
                               std::to_string(x.shape.size()));
      }
    } else {
      out.assign(x.shape.size(), -1);
    }
  }
  ctx.SetOutput(0, x.dtype, out);
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& ind = ctx.input(1);
  if (x.rank() < 3) {
    return InvalidArgument(ctx.node().Describe() + ": input X must have rank >= 3, got " + ShapeToString(x.shape()));
  }
  if (ind.shape() != x.shape()) {
    return InvalidArgument(ctx.node().Describe() + ": indices of shape " + ShapeToString(ind.shape()) +
                           " for X of shape " + ShapeToString(x.shape()));
  }
  DOPT_ASSIGN_OR_RETURN(const Shape inferred, DefaultShape(ctx.node(), x.shape()));
  Shape out = inferred;
  if (ctx.has_input(2)) {
    out = ctx.input(2).ToInt64Vector();
    bool fits = (int)out.size() == x.rank();
    for (int d = 0; fits && d < x.rank(); ++d) fits = out[d] >= inferred[d] && (d >= 2 || out[d] == inferred[d]);
    if (!fits) {
      return InvalidArgument(ctx.node().Describe() + ": output_shape " + ShapeToString(out) + " is smaller than " +
                             ShapeToString(inferred) + ", the shape the indices refer to");
    }
  }
  Tensor& y = ctx.Output(0, x.dtype(), out);  // zeroed
  const int64_t ni = NumElements(inferred);
  const int64_t* ip = ind.data<int64_t>();
  for (int64_t i = 0; i < x.numel(); ++i) {
    if (ip[i] < 0 || ip[i] >= ni) {
      return InvalidArgument(ctx.node().Describe() + ": index " + std::to_string(ip[i]) + " outside an output of " +
                             std::to_string(ni) + " elements");
    }
  }
  // Indices are flat positions in the inferred shape; a larger output_shape holds that block
  // at its origin, zero elsewhere (as ONNX's reference implementation).
  auto target = [&](int64_t flat) {
    if (out == inferred) return flat;
    int64_t pos = 0, stride = 1;
    for (int d = x.rank() - 1; d >= 0; --d) {
      pos += (flat % inferred[d]) * stride;
      flat /= inferred[d];
      stride *= out[d];
    }
    return pos;
  };
  bool ok = DispatchByElemSize(DTypeSize(x.dtype()), [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) yp[target(ip[i])] = xp[i];
  });
  if (!ok) return InvalidArgument(ctx.node().Describe() + ": unsupported type " + DTypeName(x.dtype()));
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_MaxUnpool() {
  static const OpDef def{
      .name = "MaxUnpool",
      .min_inputs = 2,
      .max_inputs = 3,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced in 9; 11: text only (output_shape and pads)"),
      .quant = NoQuantRole(),  // kept in float (a decoder op, not on the paths -m 0 quantizes)
  };
  return def;
}

}  // namespace dopt
