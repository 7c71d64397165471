// Size: the number of elements of x, as an int64 scalar; folds from a known shape.
#include "ops/op_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  ctx.SetOutput(0, DType::kInt64, {});
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  Tensor& y = ctx.Output(0, DType::kInt64, {});
  y.data<int64_t>()[0] = ctx.input(0).numel();
  return Status::Ok();
}

Status Fold(InferContext& ctx, std::vector<Tensor>* outputs) {
  const ValueInfo& x = ctx.input(0);
  if (!x.ShapeKnown()) return Status::Ok();
  Tensor y(DType::kInt64, {});
  y.data<int64_t>()[0] = NumElements(x.shape);
  outputs->push_back(std::move(y));
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_Size() {
  static const OpDef def{
      .name = "Size",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .fold_from_info = Fold,
      .upgrade = NoUpgradeNeeded("13, 19, 21: new types only").Since(1),
      .quant = NoQuantRole(),  // an int64 output
  };
  return def;
}

}  // namespace dopt
