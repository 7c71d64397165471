// DepthToSpace: [N, C, H, W] -> [N, C/(b*b), H*b, W*b], moving blocks of channels into space.
// mode DCR (default): out[n, c, h*b+i, w*b+j] = x[n, (i*b+j)*C' + c, h, w];
// mode CRD:           out[n, c, h*b+i, w*b+j] = x[n, c*b*b + i*b + j, h, w].
// Any dtype: elements are only moved.
#include "ops/space_depth_util.h"

namespace dopt {
namespace {

StatusOr<bool> IsCrd(const Node& node) {
  DOPT_ASSIGN_OR_RETURN(std::string mode, node.GetString("mode", "DCR"));
  if (mode == "DCR") return false;
  if (mode == "CRD") return true;
  return InvalidArgument(node.Describe() + ": mode must be DCR or CRD, got '" + mode + "'");
}

Status Infer(InferContext& ctx) {
  DOPT_ASSIGN_OR_RETURN(int64_t b, GetBlockSize(ctx.node()));
  DOPT_RETURN_IF_ERROR(IsCrd(ctx.node()).status());
  const ValueInfo& x = ctx.input(0);
  if (!x.rank_known) {
    ctx.SetOutput(0, x.dtype, {-1, -1, -1, -1});
    return Status::Ok();
  }
  if (x.shape.size() != 4) {
    return InvalidArgument(ctx.node().Describe() + ": input must have rank 4, got " + ShapeToString(x.shape));
  }
  const Shape& s = x.shape;
  if (s[1] >= 0 && s[1] % (b * b) != 0) {
    return InvalidArgument(ctx.node().Describe() + ": channels " + std::to_string(s[1]) +
                           " are not a multiple of blocksize^2 = " + std::to_string(b * b));
  }
  ctx.SetOutput(0, x.dtype, {s[0], s[1] < 0 ? -1 : s[1] / (b * b), s[2] < 0 ? -1 : s[2] * b, s[3] < 0 ? -1 : s[3] * b});
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  DOPT_ASSIGN_OR_RETURN(int64_t b, GetBlockSize(ctx.node()));
  DOPT_ASSIGN_OR_RETURN(bool crd, IsCrd(ctx.node()));
  if (x.rank() != 4) {
    return InvalidArgument(ctx.node().Describe() + ": input must have rank 4, got " + ShapeToString(x.shape()));
  }
  if (x.dim(1) % (b * b) != 0) {
    return InvalidArgument(ctx.node().Describe() + ": channels " + std::to_string(x.dim(1)) +
                           " are not a multiple of blocksize^2 = " + std::to_string(b * b));
  }
  const int64_t n = x.dim(0), c = x.dim(1) / (b * b), h = x.dim(2), w = x.dim(3);
  Tensor& y = ctx.OutputUninitialized(0, x.dtype(), {n, c, h * b, w * b});
  // The output row (n, c, oh) reads input row (n, channel(c, i, j), h) for each j.
  Status st = MoveRows(ctx, x, &y, n * c * h * b, w * b, [&](int64_t row, int64_t ow) {
    const int64_t oh = row % (h * b), nc = row / (h * b);
    const int64_t cc = nc % c, nn = nc / c;
    const int64_t hh = oh / b, i = oh % b, ww = ow / b, j = ow % b;
    const int64_t ch = crd ? cc * b * b + i * b + j : (i * b + j) * c + cc;
    return ((nn * x.dim(1) + ch) * h + hh) * w + ww;
  });
  return st;
}

}  // namespace

const OpDef& OpDef_DepthToSpace() {
  static const OpDef def{
      .name = "DepthToSpace",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("11: mode attribute (default DCR, the old behaviour); 13: types").Since(1),
      .quant = SharesInputScale(),  // moves elements
  };
  return def;
}

}  // namespace dopt
