// SpaceToDepth: [N, C, H, W] -> [N, C*b*b, H/b, W/b], the inverse of DepthToSpace's DCR mode:
// out[n, (i*b+j)*C + c, h, w] = x[n, c, h*b+i, w*b+j]. Any dtype: elements are only moved.
#include "ops/space_depth_util.h"

namespace dopt {
namespace {

Status CheckSpatial(const Node& node, const Shape& s, int64_t b) {
  for (int d = 2; d < 4; ++d) {
    if (s[d] >= 0 && s[d] % b != 0) {
      return InvalidArgument(node.Describe() + ": spatial dims of " + ShapeToString(s) + " are not multiples of blocksize " +
                             std::to_string(b));
    }
  }
  return Status::Ok();
}

Status Infer(InferContext& ctx) {
  DOPT_ASSIGN_OR_RETURN(int64_t b, GetBlockSize(ctx.node()));
  const ValueInfo& x = ctx.input(0);
  if (!x.rank_known) {
    ctx.SetOutput(0, x.dtype, {-1, -1, -1, -1});
    return Status::Ok();
  }
  if (x.shape.size() != 4) {
    return InvalidArgument(ctx.node().Describe() + ": input must have rank 4, got " + ShapeToString(x.shape));
  }
  const Shape& s = x.shape;
  DOPT_RETURN_IF_ERROR(CheckSpatial(ctx.node(), s, b));
  ctx.SetOutput(0, x.dtype, {s[0], s[1] < 0 ? -1 : s[1] * b * b, s[2] < 0 ? -1 : s[2] / b, s[3] < 0 ? -1 : s[3] / b});
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  DOPT_ASSIGN_OR_RETURN(int64_t b, GetBlockSize(ctx.node()));
  if (x.rank() != 4) {
    return InvalidArgument(ctx.node().Describe() + ": input must have rank 4, got " + ShapeToString(x.shape()));
  }
  DOPT_RETURN_IF_ERROR(CheckSpatial(ctx.node(), x.shape(), b));
  const int64_t n = x.dim(0), c = x.dim(1), H = x.dim(2), W = x.dim(3), h = H / b, w = W / b;
  const int64_t oc = c * b * b;
  Tensor& y = ctx.OutputUninitialized(0, x.dtype(), {n, oc, h, w});
  return MoveRows(ctx, x, &y, n * oc * h, w, [&](int64_t row, int64_t ww) {
    const int64_t hh = row % h, nc = row / h;
    const int64_t och = nc % oc, nn = nc / oc;
    const int64_t cc = och % c, ij = och / c, i = ij / b, j = ij % b;
    return ((nn * c + cc) * H + hh * b + i) * W + ww * b + j;
  });
}

}  // namespace

const OpDef& OpDef_SpaceToDepth() {
  static const OpDef def{
      .name = "SpaceToDepth",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("13: types only").Since(1),
      .quant = SharesInputScale(),  // moves elements
  };
  return def;
}

}  // namespace dopt
