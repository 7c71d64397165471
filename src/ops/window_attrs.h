// Window geometry shared by Conv, ConvTranspose, MaxPool and AveragePool: attribute parsing
// (kernel_shape, strides, dilations, pads, auto_pad, ceil_mode) and output-size rules.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dopt/status.h"
#include "ir/graph.h"
#include "kernels/pool.h"
#include "ops/op.h"

namespace dopt {

struct WindowAttrs {
  int nspatial = 0;
  std::vector<int64_t> kernel;     // per spatial dim
  std::vector<int64_t> strides;    // per spatial dim
  std::vector<int64_t> dilations;  // per spatial dim
  std::vector<int64_t> pads;       // 2*nspatial: all begins, then all ends (explicit pads)
  std::string auto_pad = "NOTSET";
  bool ceil_mode = false;
};

// Reads the window attributes of `node`. `nspatial` is the number of spatial dims; `kernel`
// is used when the node has no kernel_shape (Conv takes it from the weights); pass empty to
// require kernel_shape. `allow_dilations`/`allow_ceil` gate attributes the op does not have.
StatusOr<WindowAttrs> ParseWindowAttrs(const Node& node, int nspatial, const std::vector<int64_t>& kernel,
                                       bool allow_ceil);

// Output spatial size of a conv/pool window over `in` (-1 = unknown, stays unknown), and the
// pads actually applied (auto_pad resolved). `pads_out` has 2*nspatial entries.
Status WindowOutput(const Node& node, const WindowAttrs& a, const std::vector<int64_t>& in,
                    std::vector<int64_t>* out, std::vector<int64_t>* pads_out);

// Window plan of MaxPool / AveragePool over X = [N, C, spatial...] (1-3 spatial dims,
// kernel_shape required): attributes, the pads applied, and the output shape [N, C, out...].
struct PoolPlan {
  WindowAttrs attrs;
  std::vector<int64_t> pads, out;  // out: spatial output sizes
  Shape out_shape;
};
StatusOr<PoolPlan> PlanPool(const Node& node, const Shape& x);
// The kernels' geometry of a pool plan over X = [N, C, spatial...]: one plane per image and
// channel, or, for the channels-last kernels, one per image.
kernels::PoolGeom PoolGeometry(const PoolPlan& p, const Shape& x, bool channels_last);

// Geometry of a convolution of X = [N, C, spatial...] (1-3 spatial dims) by W = [M, C/group,
// k...] (Conv, ConvInteger, QLinearConv): `group`, the window attributes (the kernel from W when
// kernel_shape is absent), the pads applied and the output shape [N, M, out...] (-1 where
// unknown). Shapes may hold -1; X's rank must be known. Checks channels against group.
struct ConvPlan {
  int64_t group = 1;
  WindowAttrs attrs;
  Shape out_shape;               // -1 where unknown
  std::vector<int64_t> pads;     // resolved, 2*nspatial
};
StatusOr<ConvPlan> PlanConv(const Node& node, const Shape& x, const Shape& w, bool w_rank_known);

// Shape rule of the convolutions' output 0 from inputs `x_input` (X) and `w_input` (W), with
// dtype `out_dtype`; X's rank may be unknown.
Status InferConvOutput(InferContext& ctx, int x_input, int w_input, DType out_dtype);

}  // namespace dopt
