// Identity: y = x, sharing x's buffer (no copy). Any tensor dtype.
#include "ops/op_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  if (ctx.input(0).dtype == DType::kString) {
    return InvalidArgument(ctx.node().Describe() + ": string tensors are not supported");
  }
  return InferSameAsInput0(ctx);
}

Status Run(KernelContext& ctx) {
  ctx.SetOutput(0, ctx.input(0));
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_Identity() {
  static const OpDef def{"Identity", 1, 1, 1, 1, Infer, Run};
  return def;
}

}  // namespace dopt
