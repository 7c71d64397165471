// ConstantOfShape: a tensor of the shape given by input 0 (1-D int64), filled with the
// one-element `value` attribute (default float32 0).
#include <cstring>

#include "ops/op_util.h"

namespace dopt {
namespace {

StatusOr<Tensor> FillValue(const Node& node) {
  const Attribute* a = node.FindAttr("value");
  if (!a) return Tensor::Scalar(0.f);
  if (a->kind != Attribute::Kind::kTensor) {
    return InvalidArgument(node.Describe() + ": attribute 'value' must be a tensor, got " + AttributeKindName(a->kind));
  }
  if (a->t.numel() != 1) {
    return InvalidArgument(node.Describe() + ": attribute 'value' must have one element, has " +
                           std::to_string(a->t.numel()));
  }
  if (DTypeSize(a->t.dtype()) == 0) {
    return Unimplemented(node.Describe() + ": value of type " + DTypeName(a->t.dtype()) + " is not supported");
  }
  return a->t;
}

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kInt64}));
  DOPT_ASSIGN_OR_RETURN(Tensor v, FillValue(ctx.node()));
  const ValueInfo& s = ctx.input(0);
  if (s.value) {
    Shape shape = s.value->ToInt64Vector();
    for (int64_t d : shape)
      if (d < 0) return InvalidArgument(ctx.node().Describe() + ": negative dim in shape " + ShapeToString(shape));
    ctx.SetOutput(0, v.dtype(), shape);
  } else if (s.rank_known && s.shape.size() == 1 && s.shape[0] >= 0 && s.shape[0] <= kMaxDeclaredRank) {
    ctx.SetOutput(0, v.dtype(), Shape(s.shape[0], -1));
  } else {
    ctx.SetOutputUnknownRank(0, v.dtype());
  }
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  DOPT_ASSIGN_OR_RETURN(Tensor v, FillValue(ctx.node()));
  v = ToComputeDType(v);
  Shape shape = ctx.input(0).ToInt64Vector();
  auto n = CheckedNumElements(shape);
  if (!n.ok()) return InvalidArgument(ctx.node().Describe() + ": bad shape " + ShapeToString(shape) + ": " + n.status().message());
  Tensor& y = ctx.Output(0, v.dtype(), shape);
  const size_t es = DTypeSize(v.dtype());
  uint8_t* p = static_cast<uint8_t*>(y.raw());
  const uint8_t* src = static_cast<const uint8_t*>(v.raw());
  bool zero = true;
  for (size_t b = 0; b < es; ++b) if (src[b]) zero = false;
  if (zero) return Status::Ok();  // storage is zero-initialised
  for (int64_t i = 0; i < *n; ++i) std::memcpy(p + i * es, src, es);
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_ConstantOfShape() {
  static const OpDef def{
      .name = "ConstantOfShape",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 9; 20, 21: types only"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
