// AveragePool: 1-3 spatial dims with kernel_shape, strides, pads, auto_pad, ceil_mode,
// count_include_pad and (opset 19) dilations.
#include "kernels/pool.h"
#include "kernels/spatial.h"
#include "ops/op_util.h"

namespace dopt {
namespace {

struct Plan {
  kernels::WindowAttrs attrs;
  std::vector<int64_t> pads, out;
  int64_t count_include_pad = 0;
};

StatusOr<Plan> MakePlan(const Node& node, const Shape& x) {
  if (x.size() < 3) return InvalidArgument(node.Describe() + ": input X must have rank >= 3, got " + ShapeToString(x));
  const int ns = (int)x.size() - 2;
  if (ns > 3) return Unimplemented(node.Describe() + ": pooling over more than 3 spatial dims");
  if (!node.HasAttr("kernel_shape")) return InvalidArgument(node.Describe() + ": kernel_shape is required");
  Plan p;
  DOPT_ASSIGN_OR_RETURN(p.attrs, kernels::ParseWindowAttrs(node, ns, {}, true));
  DOPT_ASSIGN_OR_RETURN(p.count_include_pad, node.GetInt("count_include_pad", 0));
  std::vector<int64_t> in(x.begin() + 2, x.end());
  DOPT_RETURN_IF_ERROR(kernels::WindowOutput(node, p.attrs, in, &p.out, &p.pads));
  return p;
}

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  const ValueInfo& x = ctx.input(0);
  if (!x.rank_known) {
    ctx.SetOutputUnknownRank(0, x.dtype);
    return Status::Ok();
  }
  DOPT_ASSIGN_OR_RETURN(Plan p, MakePlan(ctx.node(), x.shape));
  Shape out = {x.shape[0], x.shape[1]};
  out.insert(out.end(), p.out.begin(), p.out.end());
  ctx.SetOutput(0, x.dtype, out);
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::kFloat32) {
    return InvalidArgument(ctx.node().Describe() + ": expected float input, got " + DTypeName(x.dtype()));
  }
  DOPT_ASSIGN_OR_RETURN(Plan p, MakePlan(ctx.node(), x.shape()));
  Shape out = {x.dim(0), x.dim(1)};
  out.insert(out.end(), p.out.begin(), p.out.end());
  kernels::PoolGeom g;
  g.planes = x.dim(0) * x.dim(1);
  std::vector<int64_t> in(x.shape().begin() + 2, x.shape().end());
  g.Set(in, p.out, p.attrs.kernel, p.attrs.strides, p.attrs.dilations, p.pads);
  Tensor& y = ctx.OutputUninitialized(0, DType::kFloat32, out);
  kernels::AveragePool(g, x.data<float>(), y.data<float>(), p.count_include_pad != 0, ctx.pool());
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_AveragePool() {
  static const OpDef def{"AveragePool", 1, 1, 1, 1, Infer, Run};
  return def;
}

}  // namespace dopt
