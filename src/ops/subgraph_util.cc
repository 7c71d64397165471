#include "ops/subgraph_util.h"

#include <cstring>

namespace dopt {

StatusOr<const Graph*> SubgraphAttr(const Node& node, const char* name) {
  const Attribute* a = node.FindAttr(name);
  if (!a) return InvalidArgument(node.Describe() + ": attribute '" + name + "' (a sub-graph) is missing");
  if (a->kind != Attribute::Kind::kGraph || !a->g) {
    return InvalidArgument(node.Describe() + ": attribute '" + name + "' must be a graph, got " +
                           AttributeKindName(a->kind));
  }
  return a->g.get();
}

ValueInfo InfoOfValue(const Value& v) {
  ValueInfo i;
  i.present = true;
  i.dtype = v.dtype;
  i.rank_known = v.rank_known;
  i.shape = v.shape;
  if (const Tensor* c = v.ConstantValue()) {
    i.rank_known = true;
    i.shape = c->shape();
  }
  return i;
}

ValueInfo MergeInfos(const ValueInfo& a, const ValueInfo& b) {
  ValueInfo m;
  m.present = true;
  m.dtype = a.dtype == b.dtype ? a.dtype : a.dtype == DType::kUndefined ? b.dtype
                                                : b.dtype == DType::kUndefined ? a.dtype : DType::kUndefined;
  if (a.rank_known && b.rank_known && a.shape.size() == b.shape.size()) {
    m.rank_known = true;
    m.shape = a.shape;
    for (size_t d = 0; d < m.shape.size(); ++d)
      if (a.shape[d] != b.shape[d]) m.shape[d] = -1;
  }
  return m;
}

StatusOr<SubgraphRunner*> RunnerOf(const KernelContext& ctx) {
  if (!ctx.subgraphs()) {
    return Unimplemented(ctx.node().Describe() + ": sub-graphs run only inside the executor (no runner given)");
  }
  return ctx.subgraphs();
}

Tensor TakeAlong(const Tensor& t, int axis, int64_t index) {
  Shape out_shape = t.shape();
  out_shape.erase(out_shape.begin() + axis);
  Tensor out = Tensor::Uninitialized(t.dtype(), out_shape);
  int64_t outer = 1, inner = DTypeSize(t.dtype());
  for (int d = 0; d < axis; ++d) outer *= t.dim(d);
  for (int d = axis + 1; d < t.rank(); ++d) inner *= t.dim(d);
  const int64_t n = t.dim(axis);
  const auto* src = static_cast<const uint8_t*>(t.raw());
  auto* dst = static_cast<uint8_t*>(out.raw());
  for (int64_t o = 0; o < outer; ++o)
    if (inner) std::memcpy(dst + o * inner, src + (o * n + index) * inner, (size_t)inner);
  return out;
}

StatusOr<Tensor> StackAlong(const Node& node, const std::vector<Tensor>& parts, int axis, bool reverse) {
  const Tensor& first = parts.front();
  for (const Tensor& p : parts) {
    if (p.dtype() != first.dtype() || p.shape() != first.shape()) {
      return InvalidArgument(node.Describe() + ": the sub-graph's scan output changes from " +
                             DTypeName(first.dtype()) + " " + ShapeToString(first.shape()) + " to " +
                             DTypeName(p.dtype()) + " " + ShapeToString(p.shape()) + " between iterations");
    }
  }
  if (axis < 0 || axis > first.rank()) {
    return InvalidArgument(node.Describe() + ": scan output axis " + std::to_string(axis) + " is out of range for rank " +
                           std::to_string(first.rank() + 1));
  }
  Shape out_shape = first.shape();
  const int64_t n = (int64_t)parts.size();
  out_shape.insert(out_shape.begin() + axis, n);
  Tensor out = Tensor::Uninitialized(first.dtype(), out_shape);
  int64_t outer = 1, inner = DTypeSize(first.dtype());
  for (int d = 0; d < axis; ++d) outer *= first.dim(d);
  for (int d = axis; d < first.rank(); ++d) inner *= first.dim(d);
  auto* dst = static_cast<uint8_t*>(out.raw());
  for (int64_t k = 0; k < n; ++k) {
    const auto* src = static_cast<const uint8_t*>(parts[reverse ? n - 1 - k : k].raw());
    for (int64_t o = 0; o < outer; ++o)
      if (inner) std::memcpy(dst + (o * n + k) * inner, src + o * inner, (size_t)inner);
  }
  return out;
}

StatusOr<bool> ReadCondition(const Node& node, const Tensor& t, const char* what) {
  if (t.numel() != 1) {
    return InvalidArgument(node.Describe() + ": " + what + " must hold one element, got shape " +
                           ShapeToString(t.shape()));
  }
  if (t.dtype() != DType::kBool) {
    return InvalidArgument(node.Describe() + ": " + what + " must be bool, got " + DTypeName(t.dtype()));
  }
  return t.data<uint8_t>()[0] != 0;
}

}  // namespace dopt
