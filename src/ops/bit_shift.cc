// BitShift: x << y or x >> y (attribute direction "LEFT" / "RIGHT") over unsigned integers
// with numpy broadcasting; shifts of the type's width or more give 0. dopt's only unsigned
// type is uint8 (uint16/32/64 tensors are not loaded).
#include <string>

#include "ops/op_util.h"

namespace dopt {
namespace {

StatusOr<bool> IsLeft(const Node& node) {
  DOPT_ASSIGN_OR_RETURN(std::string dir, node.GetString("direction", ""));
  if (dir == "LEFT") return true;
  if (dir == "RIGHT") return false;
  return InvalidArgument(node.Describe() + ": direction must be LEFT or RIGHT, got '" + dir + "'");
}

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(IsLeft(ctx.node()).status());
  return InferBroadcastBinary(ctx, {DType::kUInt8});
}

Status Run(KernelContext& ctx) {
  DOPT_ASSIGN_OR_RETURN(bool left, IsLeft(ctx.node()));
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  if (a.dtype() != DType::kUInt8 || b.dtype() != DType::kUInt8) {
    return InvalidArgument(ctx.node().Describe() + ": inputs must be uint8");
  }
  DOPT_ASSIGN_OR_RETURN(BroadcastPlan plan, PlanBroadcast(ctx.node(), a.shape(), b.shape()));
  Tensor& y = ctx.OutputUninitialized(0, DType::kUInt8, plan.out_shape);
  RunBroadcast<uint8_t, uint8_t>(plan, a.data<uint8_t>(), b.data<uint8_t>(), y.data<uint8_t>(), ctx.pool(),
                                 [&](uint8_t x, uint8_t s) -> uint8_t {
                                   if (s >= 8) return 0;
                                   return left ? (uint8_t)(x << s) : (uint8_t)(x >> s);
                                 });
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_BitShift() {
  static const OpDef def{
      .name = "BitShift",
      .min_inputs = 2,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 11; unchanged since"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
