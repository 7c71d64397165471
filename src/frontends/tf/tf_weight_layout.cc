#include "frontends/tf/tf_weight_layout.h"

#include <cstring>

namespace dopt {

namespace {

const TfQuantizedOpInfo kOps[] = {
    {"Conv2D", 0, 1, TfWeightKind::kHwio},
    {"DepthwiseConv2dNative", 0, 1, TfWeightKind::kHwcm},
    {"Conv2DBackpropInput", 2, 1, TfWeightKind::kHwio},
    {"MatMul", -1, -1, TfWeightKind::kMatMul},
    {"BatchMatMulV2", -1, -1, TfWeightKind::kMatMul},  // a 2-D constant weight (Keras EinsumDense)
    {"BatchMatMulV3", -1, -1, TfWeightKind::kMatMul},
    {"Einsum", -1, -1, TfWeightKind::kMatMul},  // "P k, k N -> P N": the kernel as [k, |N|], reshaped back
};

// Copies element by element: `map(ir flat index) -> tf flat index`.
template <typename F>
Tensor Permuted(const Tensor& ir, Shape tf_shape, F map) {
  Tensor out(ir.dtype(), std::move(tf_shape));
  const size_t es = DTypeSize(ir.dtype());
  const char* src = static_cast<const char*>(ir.raw());
  char* dst = static_cast<char*>(out.raw());
  for (int64_t i = 0; i < ir.numel(); ++i) std::memcpy(dst + map(i) * es, src + i * es, es);
  return out;
}

}  // namespace

const TfQuantizedOpInfo* FindTfQuantizedOp(const std::string& op) {
  for (const TfQuantizedOpInfo& e : kOps)
    if (op == e.op) return &e;
  return nullptr;
}

StatusOr<Tensor> IrWeightToTf(const Tensor& ir, TfWeightKind kind, int64_t groups) {
  const Shape& s = ir.shape();
  switch (kind) {
    case TfWeightKind::kHwio:
    case TfWeightKind::kHwcm: {
      if (ir.rank() != 4) return InvalidArgument("a conv weight of shape " + ShapeToString(s) + " is not 4-D");
      const int64_t A = s[0], B = s[1], H = s[2], W = s[3];
      if (kind == TfWeightKind::kHwio) {  // ir (a, b, h, w) -> tf (h, w, b, a)
        return Permuted(ir, {H, W, B, A}, [&](int64_t i) {
          const int64_t w = i % W, h = (i / W) % H, b = (i / (W * H)) % B, a = i / (W * H * B);
          return ((h * W + w) * B + b) * A + a;
        });
      }
      if (B != 1 || groups < 1 || A % groups != 0)
        return InvalidArgument("a depthwise weight of shape " + ShapeToString(s) + " is not [C*M, 1, H, W] with C = " +
                               std::to_string(groups));
      return Permuted(ir, {H, W, groups, A / groups}, [&](int64_t i) {  // (oc, 0, h, w) -> (h, w, oc): C, M kept in order
        const int64_t w = i % W, h = (i / W) % H, oc = i / (W * H);
        return (h * W + w) * A + oc;
      });
    }
    case TfWeightKind::kMatMul:
      if (ir.rank() != 2) return InvalidArgument("a MatMul weight of shape " + ShapeToString(s) + " is not 2-D");
      return ir;
    case TfWeightKind::kMatMulTransposed: {
      if (ir.rank() != 2) return InvalidArgument("a MatMul weight of shape " + ShapeToString(s) + " is not 2-D");
      const int64_t K = s[0], N = s[1];
      return Permuted(ir, {N, K}, [&](int64_t i) { return (i % N) * K + i / N; });
    }
  }
  return Internal("unknown TF weight layout");
}

StatusOr<Shape> TfScaleShape(const Shape& ir_shape, TfWeightKind kind, int ir_axis, int64_t groups) {
  if (ir_axis < 0) return Shape{};
  if (ir_axis >= (int)ir_shape.size())
    return InvalidArgument("weight channel axis " + std::to_string(ir_axis) + " is out of range for " + ShapeToString(ir_shape));
  const int64_t c = ir_shape[ir_axis];
  switch (kind) {
    case TfWeightKind::kHwio:  // IR axis 0 -> TF axis 3 ([C]), IR axis 1 -> TF axis 2 ([C, 1])
      if (ir_axis == 0) return Shape{c};
      if (ir_axis == 1) return Shape{c, 1};
      break;
    case TfWeightKind::kHwcm:  // C*M output channels, the last TF dims flattened in order
      if (ir_axis == 0 && groups >= 1 && c % groups == 0) return Shape{groups, c / groups};
      break;
    case TfWeightKind::kMatMul:
      return ir_axis == 1 ? Shape{c} : Shape{c, 1};
    case TfWeightKind::kMatMulTransposed:
      return ir_axis == 1 ? Shape{c, 1} : Shape{c};
  }
  return Unimplemented("weight channel axis " + std::to_string(ir_axis) + " of a " + ShapeToString(ir_shape) +
                       " weight has no TF equivalent");
}

}  // namespace dopt
