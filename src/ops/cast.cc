// Cast: converts x to the ONNX TensorProto dtype given by `to`.
// float -> int truncates toward zero (out-of-range values are not saturated); -> bool is
// x != 0. float16/bfloat16 targets: Infer reports the declared dtype, Run returns float32
// values rounded through that type (kernels never hold 16-bit float data).
#include <cstdint>

#include "ops/cast_common.h"
#include "ops/op_util.h"

namespace dopt {
namespace {

StatusOr<DType> TargetDType(const Node& node) {
  if (!node.HasAttr("to")) return InvalidArgument("attribute 'to' is required");
  DOPT_ASSIGN_OR_RETURN(int64_t to, node.GetInt("to", 0));
  switch (to) {
    case 1: return DType::kFloat32;
    case 2: return DType::kUInt8;
    case 3: return DType::kInt8;
    case 5: return DType::kInt16;
    case 6: return DType::kInt32;
    case 7: return DType::kInt64;
    case 9: return DType::kBool;
    case 10: return DType::kFloat16;
    case 16: return DType::kBFloat16;
    default: break;
  }
  const char* name = to == 4 ? "UINT16" : to == 8 ? "STRING" : to == 11 ? "DOUBLE" : to == 12 ? "UINT32"
                   : to == 13 ? "UINT64" : to == 14 ? "COMPLEX64" : to == 15 ? "COMPLEX128" : nullptr;
  return Unimplemented("cast to " + (name ? std::string(name) : "data type " + std::to_string(to)) +
                       " is not supported");
}

Status Infer(InferContext& ctx) {
  auto to_or = TargetDType(ctx.node());
  if (!to_or.ok()) return to_or.status().WithContext(ctx.node().Describe());
  const DType to = *to_or;
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kInt8,
                                                DType::kUInt8, DType::kInt16, DType::kInt32, DType::kInt64,
                                                DType::kBool}));
  const ValueInfo& x = ctx.input(0);
  if (x.rank_known) ctx.SetOutput(0, to, x.shape);
  else ctx.SetOutputUnknownRank(0, to);
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  DOPT_ASSIGN_OR_RETURN(DType to, TargetDType(ctx.node()));
  return RunCast(ctx, to);
}

}  // namespace

const OpDef& OpDef_Cast() {
  static const OpDef def{
      .name = "Cast",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("9, 13, 21: new types; 19: saturate (default 1, only for float8 targets) and types").Since(6),
      .quant = NoQuantRole(),  // changes the element type
  };
  return def;
}

}  // namespace dopt
