// Transpose: not implemented yet (stub).
#include "ops/op_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) { return Unimplemented(ctx.node().Describe() + ": op not implemented yet"); }
Status Run(KernelContext& ctx) { return Unimplemented(ctx.node().Describe() + ": op not implemented yet"); }

}  // namespace

const OpDef& OpDef_Transpose() {
  static const OpDef def{"Transpose", 0, 100, 0, 100, Infer, Run};
  return def;
}

}  // namespace dopt
