// Sub: C = A - B with numpy broadcasting (integer differences wrap like the storage type).
#include "ops/op_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) { return InferBroadcastBinary(ctx, DOPT_ARITH_TYPES); }

Status Run(KernelContext& ctx) {
  return RunBinaryArith(ctx, [](auto a, auto b) { return a - b; });
}

}  // namespace

const OpDef& OpDef_Sub() {
  static const OpDef def{"Sub", 2, 2, 1, 1, Infer, Run};
  return def;
}

}  // namespace dopt
