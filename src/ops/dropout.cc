// Dropout in inference mode: y = x (sharing x's buffer); the optional `mask` output is all
// true. Opset 12+ has optional inputs `ratio` and `training_mode`; older opsets have `ratio`
// and `is_test` attributes. Training mode is supported only with ratio 0 (also an identity);
// otherwise it is an Unimplemented error ("training mode is not supported").
#include <algorithm>

#include "ops/op_util.h"

namespace dopt {
namespace {

// Training mode is only supported in the case where it changes nothing: ratio == 0.
// `ratio` may be null (default 0.5, or unknown during shape inference: then no error yet).
Status CheckNotTraining(const Node& node, const Tensor* training_mode, const Tensor* ratio, bool ratio_known) {
  bool training = training_mode && training_mode->numel() > 0 && training_mode->ToDoubleVector()[0] != 0;
  DOPT_ASSIGN_OR_RETURN(int64_t is_test, node.GetInt("is_test", 1));
  if (!is_test) training = true;
  if (!training) return Status::Ok();
  if (!ratio_known) return Status::Ok();
  double r = 0.5;
  if (ratio && ratio->numel() > 0) r = ratio->ToDoubleVector()[0];
  else if (!ratio) {
    DOPT_ASSIGN_OR_RETURN(float a, node.GetFloat("ratio", 0.5f));
    r = a;
  }
  if (r != 0) return Unimplemented("training mode is not supported (only with ratio 0)");
  return Status::Ok();
}

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  if (ctx.has_input(1)) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  if (ctx.has_input(2)) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 2, {DType::kBool}));
  const Tensor* ratio = ctx.has_input(1) ? ctx.input(1).value : nullptr;
  const bool ratio_known = !ctx.has_input(1) || ratio;
  DOPT_RETURN_IF_ERROR(CheckNotTraining(ctx.node(), ctx.has_input(2) ? ctx.input(2).value : nullptr, ratio, ratio_known)
                           .WithContext(ctx.node().Describe()));
  DOPT_RETURN_IF_ERROR(InferSameAsInput0(ctx));
  if (ctx.num_outputs() > 1) {
    const ValueInfo& x = ctx.input(0);
    if (x.rank_known) ctx.SetOutput(1, DType::kBool, x.shape);
    else ctx.SetOutputUnknownRank(1, DType::kBool);
  }
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckNotTraining(ctx.node(), ctx.has_input(2) ? &ctx.input(2) : nullptr,
                                        ctx.has_input(1) ? &ctx.input(1) : nullptr, true));
  const Tensor& x = ctx.input(0);
  ctx.SetOutput(0, x);
  if (ctx.num_outputs() > 1 && ctx.node().outputs.size() > 1 && ctx.node().outputs[1] >= 0) {
    Tensor& mask = ctx.Output(1, DType::kBool, x.shape());
    std::fill(mask.data<uint8_t>(), mask.data<uint8_t>() + mask.numel(), uint8_t{1});
  }
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_Dropout() {
  static const OpDef def{"Dropout", 1, 3, 1, 2, Infer, Run};
  return def;
}

}  // namespace dopt
