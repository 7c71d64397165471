// Constant: outputs the tensor given by exactly one of the attributes `value` (a tensor),
// `value_float`, `value_floats`, `value_int` or `value_ints`. `sparse_value`, `value_string`
// and `value_strings` are not supported. Infer reports the declared dtype (float16 stays
// float16); Run outputs the compute dtype (float16/bfloat16 data as float32).
#include "ops/op_util.h"

namespace dopt {
namespace {

StatusOr<Tensor> ConstantValue(const Node& node) {
  static const char* kUnsupported[] = {"sparse_value", "value_string", "value_strings"};
  for (const char* n : kUnsupported) {
    if (node.HasAttr(n)) return Unimplemented(std::string("attribute '") + n + "' is not supported");
  }
  static const char* kKnown[] = {"value", "value_float", "value_floats", "value_int", "value_ints"};
  const char* which = nullptr;
  for (const char* n : kKnown) {
    if (!node.HasAttr(n)) continue;
    if (which) {
      return InvalidArgument(std::string("attributes '") + which + "' and '" + n +
                             "' are both set; exactly one value attribute is allowed");
    }
    which = n;
  }
  if (!which) return InvalidArgument("no value attribute (value, value_float, ...) is set");
  const std::string w = which;
  if (w == "value") {
    const Attribute* a = node.FindAttr("value");
    if (a->kind != Attribute::Kind::kTensor || a->t.empty()) {
      return InvalidArgument(std::string("attribute 'value' is a ") + AttributeKindName(a->kind) +
                             ", expected a tensor");
    }
    if (a->t.dtype() == DType::kString) return Unimplemented("string constants are not supported");
    return a->t;
  }
  if (w == "value_float") {
    DOPT_ASSIGN_OR_RETURN(float v, node.GetFloat(w, 0.f));
    return Tensor::Scalar(v);
  }
  if (w == "value_floats") {
    DOPT_ASSIGN_OR_RETURN(std::vector<float> v, node.GetFloats(w));
    return Tensor::FromFloats({(int64_t)v.size()}, v);
  }
  if (w == "value_int") {
    DOPT_ASSIGN_OR_RETURN(int64_t v, node.GetInt(w, 0));
    return Tensor::FromInt64s({}, {v});
  }
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> v, node.GetInts(w));
  return Tensor::FromInt64s({(int64_t)v.size()}, v);
}

Status Infer(InferContext& ctx) {
  auto t_or = ConstantValue(ctx.node());
  if (!t_or.ok()) return t_or.status().WithContext(ctx.node().Describe());
  const Tensor& t = *t_or;
  ctx.SetOutput(0, t.dtype(), t.shape());
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  DOPT_ASSIGN_OR_RETURN(Tensor t, ConstantValue(ctx.node()));
  ctx.SetOutput(0, ToComputeDType(t));
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_Constant() {
  static const OpDef def{
      .name = "Constant",
      .min_inputs = 0,
      .max_inputs = 0,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("9, 13, 19, 21: types; 11: sparse_value, 12: value_* attributes, alternatives to "
                                 "value, which keeps its meaning").Since(1),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
