#include "ops/logic_util.h"

namespace dopt {

Status InferBroadcastBinaryTo(InferContext& ctx, std::initializer_list<DType> allowed, DType out) {
  DOPT_RETURN_IF_ERROR(InferBroadcastBinary(ctx, allowed));
  if (out != DType::kUndefined) ctx.output(0).dtype = out;
  return Status::Ok();
}

StatusOr<DType> DTypeFromOnnx(const Node& node, int64_t t) {
  switch (t) {
    case 1: return DType::kFloat32;
    case 2: return DType::kUInt8;
    case 3: return DType::kInt8;
    case 5: return DType::kInt16;
    case 6: return DType::kInt32;
    case 7: return DType::kInt64;
    case 9: return DType::kBool;
    case 10: return DType::kFloat16;
    case 16: return DType::kBFloat16;
    default: return Unimplemented(node.Describe() + ": data type " + std::to_string(t) + " is not supported");
  }
}

}  // namespace dopt
