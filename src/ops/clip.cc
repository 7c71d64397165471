// Clip: y = min(max(x, lo), hi). Opset < 11 takes `min`/`max` float attributes; opset 11+
// takes optional scalar inputs 1 (min) and 2 (max), either of which may be omitted.
// Integer types are accepted (opset 12+). When lo > hi every element becomes hi; NaN passes.
#include <cfloat>
#include <limits>
#include <type_traits>

#include "ir/graph_edit.h"
#include "ops/op_upgrade.h"
#include "ops/op_util.h"

namespace dopt {
namespace {

#define DOPT_CLIP_TYPES {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kInt8, DType::kUInt8, \
                         DType::kInt16, DType::kInt32, DType::kInt64}

Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  DOPT_RETURN_IF_ERROR(node.GetFloat("min", 0.f).status());
  DOPT_RETURN_IF_ERROR(node.GetFloat("max", 0.f).status());
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, DOPT_CLIP_TYPES));
  const DType t = ctx.input(0).dtype;
  for (int i = 1; i < 3; ++i) {
    if (!ctx.has_input(i)) continue;
    const ValueInfo& b = ctx.input(i);
    if (t != DType::kUndefined && b.dtype != DType::kUndefined && b.dtype != t) {
      return InvalidArgument(node.Describe() + ": " + (i == 1 ? "min" : "max") + " has type " +
                             DTypeName(b.dtype) + " but the input is " + DTypeName(t));
    }
    if (b.ShapeKnown() && NumElements(b.shape) != 1) {
      return InvalidArgument(node.Describe() + ": " + (i == 1 ? "min" : "max") + " must be a scalar, got shape " +
                             ShapeToString(b.shape));
    }
  }
  return InferSameAsInput0(ctx);
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  const Tensor& x = ctx.input(0);
  return VisitNumericDType(x.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    T lo = std::is_floating_point_v<T> ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::lowest();
    T hi = std::is_floating_point_v<T> ? std::numeric_limits<T>::infinity() : std::numeric_limits<T>::max();
    if (node.HasAttr("min")) {
      DOPT_ASSIGN_OR_RETURN(float v, node.GetFloat("min", 0.f));
      lo = static_cast<T>(v);
    }
    if (node.HasAttr("max")) {
      DOPT_ASSIGN_OR_RETURN(float v, node.GetFloat("max", 0.f));
      hi = static_cast<T>(v);
    }
    for (int i = 1; i < 3; ++i) {
      if (!ctx.has_input(i)) continue;
      const Tensor& b = ctx.input(i);
      const char* what = i == 1 ? "min" : "max";
      if (b.dtype() != x.dtype()) {
        return InvalidArgument(std::string(what) + " has type " + DTypeName(b.dtype()) + " but the input is " +
                               DTypeName(x.dtype()));
      }
      if (b.numel() != 1) return InvalidArgument(std::string(what) + " must be a scalar, got shape " + ShapeToString(b.shape()));
      (i == 1 ? lo : hi) = b.data<T>()[0];
    }
    Tensor& y = ctx.Output(0, x.dtype(), x.shape());
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    ParallelForOrInline(ctx.pool(), x.numel(), 1 << 14, [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; ++k) {
        T v = xp[k] < lo ? lo : xp[k];
        yp[k] = v > hi ? hi : v;
      }
    });
    return Status::Ok();
  });
}

// Opset upgrade: 11 turns the min/max attributes (defaults: the float range) into optional
// scalar inputs of the input's type; 12, 13: types.
Status Upgrade(Graph& g, int ni, int from, int to) {
  if (!OpsetCrosses(from, to, 11)) return Status::Ok();
  Node& n = g.nodes[ni];
  DOPT_RETURN_IF_ERROR(NeedUpgradeInputs(n, 1));
  bool has_min = n.HasAttr("min"), has_max = n.HasAttr("max");
  if (!has_min && !has_max) return Status::Ok();
  n.dirty = true;
  DOPT_ASSIGN_OR_RETURN(float lo, n.GetFloat("min", -FLT_MAX));
  DOPT_ASSIGN_OR_RETURN(float hi, n.GetFloat("max", FLT_MAX));
  DType dt = g.value(n.inputs[0]).dtype;
  std::string name = n.name;
  int lo_id = -1, hi_id = -1;
  if (has_min) {
    DOPT_ASSIGN_OR_RETURN(lo_id, AddFloatScalarInitializer(g, g.nodes[ni], name + "_min", lo, dt));
  }
  if (has_max) {
    DOPT_ASSIGN_OR_RETURN(hi_id, AddFloatScalarInitializer(g, g.nodes[ni], name + "_max", hi, dt));
  }
  Node& m = g.nodes[ni];
  RemoveAttr(m, "min");
  RemoveAttr(m, "max");
  m.inputs.resize(1);
  SetUpgradeInput(m, 1, lo_id);
  SetUpgradeInput(m, 2, hi_id);
  return Status::Ok();
}

// As an epilogue step: bounds from the attributes (opset < 11) or constant scalar inputs.
bool Epilogue(const EpilogueQuery& q, kernels::EpilogueStep* s) {
  float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
  for (const char* attr : {"min", "max"}) {
    if (!q.node.HasAttr(attr)) continue;
    auto v = q.node.GetFloat(attr, 0.f);
    if (!v.ok()) return false;
    (attr[1] == 'i' ? lo : hi) = *v;
  }
  for (size_t i = 1; i < 3 && i < q.node.inputs.size(); ++i) {
    if (q.node.inputs[i] < 0) continue;
    const Tensor* t = q.graph.value(q.node.inputs[i]).ConstantValue();
    if (!t || t->numel() != 1 || t->dtype() != DType::kFloat32) return false;
    (i == 1 ? lo : hi) = t->data<float>()[0];
  }
  return UnaryEpilogue(q, s, kernels::EpilogueStep::kClip, lo, hi);
}

}  // namespace

const OpDef& OpDef_Clip() {
  static const OpDef def{
      .name = "Clip",
      .min_inputs = 1,
      .max_inputs = 3,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .epilogue = Epilogue,
      .channels_last = ElementwiseChannelsLast,
      .upgrade = UpgradeBy(Upgrade).Since(6),
      .quant = NoQuantRole(),  // its bounds need not lie on the input's grid
  };
  return def;
}

}  // namespace dopt
