// EyeLike: a 2-D tensor of x's shape with ones on the diagonal shifted by k (y[i][i+k] = 1)
// and zeros elsewhere; dtype from the `dtype` attribute (ONNX TensorProto number), else x's.
#include "ops/logic_util.h"

namespace dopt {
namespace {

StatusOr<DType> OutDType(const Node& node, DType x) {
  if (!node.HasAttr("dtype")) return x;
  DOPT_ASSIGN_OR_RETURN(int64_t t, node.GetInt("dtype", 0));
  return DTypeFromOnnx(node, t);
}

Status Infer(InferContext& ctx) {
  const ValueInfo& x = ctx.input(0);
  DOPT_ASSIGN_OR_RETURN(DType t, OutDType(ctx.node(), x.dtype));
  if (x.rank_known && x.shape.size() != 2) return InvalidArgument(ctx.node().Describe() + ": input must be 2-D");
  ctx.SetOutput(0, t, x.rank_known ? x.shape : Shape{-1, -1});
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.rank() != 2) return InvalidArgument(ctx.node().Describe() + ": input must be 2-D");
  DOPT_ASSIGN_OR_RETURN(DType t, OutDType(ctx.node(), x.dtype()));
  DOPT_ASSIGN_OR_RETURN(int64_t k, ctx.node().GetInt("k", 0));
  Tensor& y = ctx.Output(0, ComputeDType(t), x.shape());
  const int64_t rows = x.dim(0), cols = x.dim(1);
  return VisitNumericOrBoolDType(y.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    T* yp = y.data<T>();
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t j = i + k;
      if (j >= 0 && j < cols) yp[i * cols + j] = (T)1;
    }
    return Status::Ok();
  });
}

}  // namespace

const OpDef& OpDef_EyeLike() {
  static const OpDef def{
      .name = "EyeLike",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 9; unchanged since"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
