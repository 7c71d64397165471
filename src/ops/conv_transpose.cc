// ConvTranspose: N-D transposed convolution (1-3 spatial dims) with groups, strides,
// dilations, pads, output_padding, output_shape and auto_pad. Kernel: SGEMM + col2im.
#include "kernels/conv.h"
#include "ops/op_util.h"

namespace dopt {
namespace {

#define FLOAT_TYPES {DType::kFloat32, DType::kFloat16, DType::kBFloat16}

inline int64_t FloorDiv2(int64_t a) { return a >= 0 ? a / 2 : -((-a + 1) / 2); }

struct Plan {
  int64_t group = 1;
  std::vector<int64_t> kernel, strides, dilations, pads_begin;
  Shape out_shape;  // -1 where unknown
};

StatusOr<Plan> MakePlan(const Node& node, const Shape& x, const Shape& w, bool w_rank_known) {
  Plan p;
  const std::string who = node.Describe() + ": ";
  if (x.size() < 3) return InvalidArgument(who + "input X must have rank >= 3, got " + ShapeToString(x));
  const int ns = (int)x.size() - 2;
  if (ns > 3) return Unimplemented(who + "transposed convolution over more than 3 spatial dims");
  if (w_rank_known && w.size() != x.size()) {
    return InvalidArgument(who + "weights W " + ShapeToString(w) + " must have the rank of X " + ShapeToString(x));
  }
  DOPT_ASSIGN_OR_RETURN(p.group, node.GetInt("group", 1));
  if (p.group < 1) return InvalidArgument(who + "group must be >= 1");
  std::vector<int64_t> wk(ns, -1);
  if (w_rank_known) wk.assign(w.begin() + 2, w.end());
  DOPT_ASSIGN_OR_RETURN(p.kernel, node.GetInts("kernel_shape", wk));
  DOPT_ASSIGN_OR_RETURN(p.strides, node.GetInts("strides", std::vector<int64_t>(ns, 1)));
  DOPT_ASSIGN_OR_RETURN(p.dilations, node.GetInts("dilations", std::vector<int64_t>(ns, 1)));
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> pads, node.GetInts("pads", std::vector<int64_t>(2 * ns, 0)));
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> opad, node.GetInts("output_padding", std::vector<int64_t>(ns, 0)));
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> oshape, node.GetInts("output_shape", {}));
  DOPT_ASSIGN_OR_RETURN(std::string auto_pad, node.GetString("auto_pad", "NOTSET"));
  if ((int)p.kernel.size() != ns || (int)p.strides.size() != ns || (int)p.dilations.size() != ns ||
      (int)pads.size() != 2 * ns || (int)opad.size() != ns) {
    return InvalidArgument(who + "kernel_shape/strides/dilations/output_padding need one entry per spatial dim and pads two");
  }
  if (oshape.size() == (size_t)ns + 2) oshape.erase(oshape.begin(), oshape.begin() + 2);
  if (!oshape.empty() && (int)oshape.size() != ns) {
    return InvalidArgument(who + "output_shape must have one entry per spatial dim");
  }
  if (auto_pad != "NOTSET" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER" && auto_pad != "VALID") {
    return InvalidArgument(who + "unknown auto_pad '" + auto_pad + "'");
  }
  for (int i = 0; i < ns; ++i) {
    if (p.strides[i] < 1 || p.dilations[i] < 1) return InvalidArgument(who + "strides and dilations must be >= 1");
    if (w_rank_known && wk[i] >= 0 && p.kernel[i] != wk[i]) {
      return InvalidArgument(who + "kernel_shape does not match W " + ShapeToString(w));
    }
  }
  p.out_shape.assign(x.size(), -1);
  p.out_shape[0] = x[0];
  if (w_rank_known && w[1] >= 0) p.out_shape[1] = w[1] * p.group;
  if (w_rank_known && x[1] >= 0 && w[0] >= 0 && x[1] != w[0]) {
    return InvalidArgument(who + "input X has " + std::to_string(x[1]) + " channels but W " + ShapeToString(w) +
                           " expects " + std::to_string(w[0]));
  }
  if (x[1] >= 0 && x[1] % p.group != 0) {
    return InvalidArgument(who + "input channels " + std::to_string(x[1]) + " not divisible by group=" +
                           std::to_string(p.group));
  }
  p.pads_begin.assign(ns, 0);
  for (int i = 0; i < ns; ++i) {
    const int64_t in = x[2 + i];
    if (in < 0 || p.kernel[i] < 0) {
      if (!oshape.empty()) p.out_shape[2 + i] = oshape[i];
      continue;
    }
    const int64_t dk = (p.kernel[i] - 1) * p.dilations[i] + 1;
    const int64_t full = p.strides[i] * (in - 1) + opad[i] + dk;
    if (!oshape.empty() || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      const int64_t o = !oshape.empty() ? oshape[i] : in * p.strides[i];
      const int64_t total = full - o;
      p.pads_begin[i] = auto_pad == "SAME_UPPER" ? FloorDiv2(total) : total - FloorDiv2(total);
      p.out_shape[2 + i] = o;
    } else {
      const int64_t pb = auto_pad == "VALID" ? 0 : pads[i], pe = auto_pad == "VALID" ? 0 : pads[i + ns];
      p.pads_begin[i] = pb;
      p.out_shape[2 + i] = full - pb - pe;
    }
    if (p.out_shape[2 + i] < 0) return InvalidArgument(who + "output size would be negative");
  }
  return p;
}

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, FLOAT_TYPES));
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, FLOAT_TYPES));
  if (ctx.has_input(2)) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 2, FLOAT_TYPES));
  const ValueInfo& x = ctx.input(0);
  const ValueInfo& w = ctx.input(1);
  if (!x.rank_known) {
    ctx.SetOutputUnknownRank(0, x.dtype);
    return Status::Ok();
  }
  DOPT_ASSIGN_OR_RETURN(Plan p, MakePlan(ctx.node(), x.shape, w.shape, w.rank_known));
  ctx.SetOutput(0, x.dtype, p.out_shape);
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  const std::string who = ctx.node().Describe() + ": ";
  if (x.dtype() != DType::kFloat32 || w.dtype() != DType::kFloat32) {
    return InvalidArgument(who + "expected float inputs, got " + DTypeName(x.dtype()) + " and " + DTypeName(w.dtype()));
  }
  DOPT_ASSIGN_OR_RETURN(Plan p, MakePlan(ctx.node(), x.shape(), w.shape(), true));
  const int64_t M = w.dim(1) * p.group;
  const float* bias = nullptr;
  if (ctx.has_input(2)) {
    const Tensor& b = ctx.input(2);
    if (b.dtype() != DType::kFloat32 || b.numel() != M) {
      return InvalidArgument(who + "bias B must be float with " + std::to_string(M) + " values, got " +
                             ShapeToString(b.shape()));
    }
    bias = b.data<float>();
  }
  Tensor& y = ctx.Output(0, DType::kFloat32, p.out_shape);
  if (y.numel() == 0) return Status::Ok();
  kernels::ConvGeom g;
  g.N = x.dim(0);
  g.C = x.dim(1);
  g.M = M;
  g.G = p.group;
  std::vector<int64_t> in(x.shape().begin() + 2, x.shape().end()), out(p.out_shape.begin() + 2, p.out_shape.end());
  g.SetSpatial(in, out, p.kernel, p.strides, p.dilations, p.pads_begin);
  kernels::ConvTransposeForward(g, x.data<float>(), w.data<float>(), bias, y.data<float>(), ctx.pool());
  return Status::Ok();
}

// Quantization: X (input 0) int8 per tensor; W [Cin, Cout/group, k...] (input 1) int8 per
// output channel, axis 1; B (input 2, Cout = group x W.dim(1) values) int32: its scales repeat
// the weight's group by group (BiasQuant).
StatusOr<int> QuantWeightAxis(const Node&, int, int) { return 1; }
StatusOr<bool> QuantBiasInt32(const Node&, const Shape&, int, const Shape&) { return true; }

}  // namespace

const OpDef& OpDef_ConvTranspose() {
  static const OpDef def{
      .name = "ConvTranspose",
      .min_inputs = 2,
      .max_inputs = 3,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("11: output_shape/pads text only (ONNX's version converter: compatible); 22 (types) "
                                 "is past 21").Since(1),
      .quant = {
          .role = QuantTraits::Role::kWeighted,
          .activation_input = 0,
          .weight_input = 1,
          .weight_min_rank = 3,
          .weight_axis = QuantWeightAxis,
          .bias_input = 2,
          .bias_must_be_constant = true,
          .bias_int32 = QuantBiasInt32,
      },
  };
  return def;
}

}  // namespace dopt
