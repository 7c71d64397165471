// Conv: N-D convolution (1-3 spatial dims) with groups, strides, dilations, pads, auto_pad and
// an optional bias. Float kernels: oneDNN for 2-D 3x3 / strided / depthwise convs where it
// applies (kernels/conv_onednn.h), else im2col + SGEMM or a direct depthwise kernel.
#include <algorithm>
#include <limits>

#include "common/kernel_options.h"
#include "kernels/conv.h"
#include "kernels/conv_onednn.h"
#include "ops/window_attrs.h"
#include "ops/op_util.h"

namespace dopt {
namespace {

#define FLOAT_TYPES {DType::kFloat32, DType::kFloat16, DType::kBFloat16}

// Input 3 (the residual of fuse_conv_add, passes/fuse_conv_add.h) only with dopt.fused_add.
Status CheckResidualInput(const Node& node, size_t inputs) {
  if (inputs > 3 && !node.HasAttr("dopt.fused_add")) {
    return InvalidArgument(node.Describe() + ": Conv takes 2 or 3 inputs, got " + std::to_string(inputs));
  }
  return Status::Ok();
}

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckResidualInput(ctx.node(), ctx.node().inputs.size()));
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, FLOAT_TYPES));
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, FLOAT_TYPES));
  if (ctx.has_input(2)) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 2, FLOAT_TYPES));
  if (ctx.has_input(2) && ctx.input(2).rank_known && ctx.input(2).shape.size() != 1) {
    return InvalidArgument(ctx.node().Describe() + ": bias B must be 1-D, got " + ShapeToString(ctx.input(2).shape));
  }
  if (IsChannelsLast(ctx.node())) {  // X [N, H, W, C] -> Y [N, OH, OW, M]
    const ValueInfo& x = ctx.input(0);
    if (!x.rank_known || x.shape.size() != 4) {
      return InvalidArgument(ctx.node().Describe() + ": channels-last input must be 4-D");
    }
    DOPT_ASSIGN_OR_RETURN(ConvPlan p, PlanConv(ctx.node(), ToChannelsFirst(x.shape), ctx.input(1).shape,
                                               ctx.input(1).rank_known));
    ctx.SetOutput(0, x.dtype, ToChannelsLast(p.out_shape));
    return Status::Ok();
  }
  return InferConvOutput(ctx, 0, 1, ctx.input(0).dtype);
}

// The activation fused into this Conv by the executor's fuse_conv_activation pass (internal
// attributes dopt.fused_*; see src/passes/fuse_conv_activation.h).
StatusOr<kernels::Activation> FusedActivation(const Node& node) {
  kernels::Activation act;
  if (!node.HasAttr("dopt.fused_activation")) return act;
  DOPT_ASSIGN_OR_RETURN(std::string kind, node.GetString("dopt.fused_activation", ""));
  if (kind == "Relu") {
    act.kind = kernels::Activation::kRelu;
  } else if (kind == "LeakyRelu") {
    act.kind = kernels::Activation::kLeakyRelu;
    DOPT_ASSIGN_OR_RETURN(act.alpha, node.GetFloat("dopt.fused_alpha", 0.01f));
  } else if (kind == "Clip") {
    act.kind = kernels::Activation::kClip;
    DOPT_ASSIGN_OR_RETURN(act.lo, node.GetFloat("dopt.fused_min", -std::numeric_limits<float>::infinity()));
    DOPT_ASSIGN_OR_RETURN(act.hi, node.GetFloat("dopt.fused_max", std::numeric_limits<float>::infinity()));
  } else {
    return InvalidArgument(node.Describe() + ": unknown dopt.fused_activation '" + kind + "'");
  }
  return act;
}

// The residual Add fused by fuse_conv_add (input 3; null when none) and the activation after it
// (dopt.fused_post_activation: Relu or none), checked against the output y.
Status FusedResidual(KernelContext& ctx, const Tensor& y, const float** residual, kernels::Activation::Kind* post) {
  *residual = nullptr;
  *post = kernels::Activation::kNone;
  const Node& node = ctx.node();
  DOPT_RETURN_IF_ERROR(CheckResidualInput(node, node.inputs.size()));
  if (!ctx.has_input(3)) return Status::Ok();
  const Tensor& r = ctx.input(3);
  if (r.dtype() != DType::kFloat32 || r.shape() != y.shape()) {
    return InvalidArgument(node.Describe() + ": the fused residual must be float " + ShapeToString(y.shape()) +
                           ", got " + DTypeName(r.dtype()) + " " + ShapeToString(r.shape()));
  }
  *residual = r.data<float>();
  DOPT_ASSIGN_OR_RETURN(std::string kind, node.GetString("dopt.fused_post_activation", ""));
  if (kind == "Relu") {
    *post = kernels::Activation::kRelu;
  } else if (!kind.empty()) {
    return InvalidArgument(node.Describe() + ": unknown dopt.fused_post_activation '" + kind + "'");
  }
  return Status::Ok();
}

// A Conv's state with constant weights: the weights cropped to their live taps (kernels::LiveTaps), and
// the kernels' own cache slots (oneDNN's primitives): one for the node's own layout, one for the
// other (a channels-last node's channels-first fallback; a channels-first depthwise conv's
// channels-last kernel).
struct ConvState {
  // The weights, input geometry and kernel choice this state was made for.
  const float* w = nullptr;
  int64_t in[3] = {0, 0, 0}, out[3] = {0, 0, 0}, pb[3] = {0, 0, 0};
  bool reference = false;
  int64_t lo[3] = {0, 0, 0}, hi[3] = {0, 0, 0};
  std::vector<float> live;  // W cropped to taps [lo, hi] per spatial dim
  std::shared_ptr<void> kernel, other_layout;
};

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  const std::string who = ctx.node().Describe() + ": ";
  if (x.dtype() != DType::kFloat32 || w.dtype() != DType::kFloat32) {
    return InvalidArgument(who + "expected float inputs, got " + DTypeName(x.dtype()) + " and " + DTypeName(w.dtype()));
  }
  const bool nhwc = IsChannelsLast(ctx.node());
  if (nhwc && x.rank() != 4) return InvalidArgument(who + "channels-last input must be 4-D");
  const Shape xs = nhwc ? ToChannelsFirst(x.shape()) : x.shape();  // [N, C, spatial...]
  DOPT_ASSIGN_OR_RETURN(ConvPlan p, PlanConv(ctx.node(), xs, w.shape(), true));
  const float* bias = nullptr;
  if (ctx.has_input(2)) {
    const Tensor& b = ctx.input(2);
    if (b.dtype() != DType::kFloat32 || b.numel() != w.dim(0)) {
      return InvalidArgument(who + "bias B must be float with " + std::to_string(w.dim(0)) + " values, got " +
                             ShapeToString(b.shape()));
    }
    bias = b.data<float>();
  }
  Tensor& y = ctx.OutputUninitialized(0, DType::kFloat32, nhwc ? ToChannelsLast(p.out_shape) : p.out_shape);
  const float* residual = nullptr;
  kernels::Activation::Kind post = kernels::Activation::kNone;
  DOPT_RETURN_IF_ERROR(FusedResidual(ctx, y, &residual, &post));
  if (y.numel() == 0) return Status::Ok();
  kernels::ConvGeom g;
  g.N = xs[0];
  g.C = xs[1];
  g.M = w.dim(0);
  g.G = p.group;
  const int ns = x.rank() - 2;
  std::vector<int64_t> in(xs.begin() + 2, xs.end()), out(p.out_shape.begin() + 2, p.out_shape.end());
  std::vector<int64_t> pb(p.pads.begin(), p.pads.begin() + ns);
  g.SetSpatial(in, out, p.attrs.kernel, p.attrs.strides, p.attrs.dilations, pb);
  DOPT_ASSIGN_OR_RETURN(kernels::Activation act, FusedActivation(ctx.node()));
  DOPT_ASSIGN_OR_RETURN(std::vector<kernels::EpilogueStep> epilogue, GetEpilogueAttrs(ctx.node()));
  for (const kernels::EpilogueStep& st : epilogue) {
    if (!st.channel_c.empty() && (int64_t)st.channel_c.size() != g.M) {
      return InvalidArgument(ctx.node().Describe() + ": dopt.epilogue_channels has " +
                             std::to_string(st.channel_c.size()) + " values per step for " + std::to_string(g.M) +
                             " output channels");
    }
  }
  act.epilogue = &epilogue;
  // Constant weights: the oneDNN primitives live in this node's state (no per-call lookup), and
  // the weights cropped to their live taps where edge taps read only padding.
  std::shared_ptr<void>*cache = nullptr, *other_cache = nullptr;
  const float* wp = w.data<float>();
  if (ctx.input_is_constant(1) && ctx.node_state()) {
    auto st = std::static_pointer_cast<ConvState>(*ctx.node_state());
    auto same = [&](const int64_t* a, const int64_t* b) { return std::equal(a, a + 3, b); };
    const bool reference = ReferenceKernelsForced();
    if (!st || st->w != wp || !same(st->in, g.in) || !same(st->out, g.out) || !same(st->pb, g.pb) ||
        st->reference != reference) {
      st = std::make_shared<ConvState>();
      st->w = wp;
      std::copy(g.in, g.in + 3, st->in);
      std::copy(g.out, g.out + 3, st->out);
      std::copy(g.pb, g.pb + 3, st->pb);
      st->reference = reference;
      int64_t lo[3], hi[3];
      if (!reference && kernels::LiveTaps(g, lo, hi)) {
        std::copy(lo, lo + 3, st->lo);
        std::copy(hi, hi + 3, st->hi);
        kernels::CropTaps(g, lo, hi, wp, &st->live);
      }
      *ctx.node_state() = st;
    }
    if (!st->live.empty()) {
      kernels::TrimTaps(g, st->lo, st->hi);
      wp = st->live.data();
    }
    cache = &st->kernel;
    other_cache = &st->other_layout;
  }
  // The convolution into y; true when the kernel also added the fused residual.
  auto compute = [&]() -> bool {
    if (nhwc) {
      if (kernels::ConvForwardOneDnnNhwc(g, x.data<float>(), wp, bias, y.data<float>(), ctx.pool(), act, cache,
                                         residual, post)) {
        return true;  // the residual added block by block
      }
      // oneDNN declined: the channels-first kernels between two transposes.
      const int64_t hw = g.InSize(), ohw = g.OutSize();
      Tensor xc = Tensor::Uninitialized(DType::kFloat32, xs), yc = Tensor::Uninitialized(DType::kFloat32, p.out_shape);
      kernels::ChannelsLastToFirst(x.data<float>(), xc.data<float>(), g.N, g.C, hw, ctx.pool());
      if (!kernels::ConvForwardOneDnn(g, xc.data<float>(), wp, bias, yc.data<float>(), ctx.pool(), act, other_cache)) {
        kernels::ConvForward(g, xc.data<float>(), wp, bias, yc.data<float>(), ctx.pool(), act);
      }
      kernels::ChannelsFirstToLast(yc.data<float>(), y.data<float>(), g.N, g.M, ohw, ctx.pool());
      return false;
    }
    if (g.G > 1 && g.G == g.C && g.G == g.M && g.C >= 32 && kernels::ConvOneDnnNhwcMayRun(g)) {
      // A depthwise conv outside a channels-last region (SegFormer's, PVTv2's and GLPN's MixFFN
      // between two token-layout transposes): oneDNN's channels-last kernel between two tiled
      // transposes beats its channels-first path, whose per-block reorders cost 4x the conv
      // (256 channels at 56x56: 0.57 -> 0.2 ms).
      const int64_t hw = g.InSize(), ohw = g.OutSize();
      Tensor xl = Tensor::Uninitialized(DType::kFloat32, xs), yl = Tensor::Uninitialized(DType::kFloat32, p.out_shape);
      kernels::ChannelsFirstToLast(x.data<float>(), xl.data<float>(), g.N, g.C, hw, ctx.pool());
      // The state's other slot: where the channels-last kernel declines, the node's own slot stays
      // the channels-first path's (one slot for both would rebuild each on every call).
      if (kernels::ConvForwardOneDnnNhwc(g, xl.data<float>(), wp, bias, yl.data<float>(), ctx.pool(), act,
                                         other_cache)) {
        kernels::ChannelsLastToFirst(yl.data<float>(), y.data<float>(), g.N, g.M, ohw, ctx.pool());
        return false;
      }
    }
    if (!kernels::ConvForwardOneDnn(g, x.data<float>(), wp, bias, y.data<float>(), ctx.pool(), act,
                                    cache)) {
      kernels::ConvForward(g, x.data<float>(), wp, bias, y.data<float>(), ctx.pool(), act);
    }
    return false;
  };
  const bool residual_added = compute();
  if (residual && !residual_added) {
    // Over the whole output, in chunks of 16K values (one output, one residual layout).
    constexpr int64_t kChunk = 16384;
    float* yp = y.data<float>();
    const int64_t n = y.numel(), chunks = (n + kChunk - 1) / kChunk;
    auto add = [&](int64_t c0, int64_t c1) {
      const int64_t i0 = c0 * kChunk, i1 = std::min(n, c1 * kChunk);
      kernels::AddResidual(yp + i0, 0, residual + i0, 0, 1, i1 - i0, post);
    };
    if (ctx.pool()) ctx.pool()->ParallelFor(chunks, 1, add);
    else add(0, chunks);
  }
  return Status::Ok();
}

// Channels-last: the 2-D dense, depthwise and grouped convolutions oneDNN runs on NHWC.
bool ChannelsLast(const Graph& g, const Node& n, ChannelsLastPlan* plan) {
  if (n.inputs.size() < 2 || n.inputs[1] < 0 || !KernelChannelsLast(g, n, plan)) return false;
  plan->anchor = true;
  // A fused residual (input 3) comes in the output's layout.
  if (n.inputs.size() > 3 && n.inputs[3] >= 0) {
    const Value& r = g.value(n.inputs[3]);
    if (!r.rank_known || r.shape.size() != 4 || r.dtype != DType::kFloat32) return false;
    plan->inputs |= uint64_t{1} << 3;
  }
  const Value& x = g.value(n.inputs[0]);
  const Value& w = g.value(n.inputs[1]);
  if (!w.rank_known || w.shape.size() != 4 || w.shape[0] <= 0 || x.shape[1] <= 0) return false;
  auto group = n.GetInt("group", 1);
  if (!group.ok()) return false;
  kernels::ConvGeom geom;  // the dims that decide; unknown spatial sizes as 1
  geom.C = x.shape[1];
  geom.M = w.shape[0];
  geom.G = *group;
  return kernels::ConvOneDnnNhwcMayRun(geom);
}

// Quantization: X (input 0) int8 per tensor; W [Cout, Cin/group, k...] (input 1) int8 per
// output channel, axis 0; B (input 2) int32 when it holds one value per output channel.
StatusOr<int> QuantWeightAxis(const Node&, int, int) { return 0; }

// Epilogues run per output channel, axis 1 of [N, C, ...].
int EpilogueAnchor(const Graph& g, const Node& n) {
  const Value& y = g.value(n.outputs[0]);
  return y.rank_known && y.shape.size() >= 3 ? 1 : -1;
}
StatusOr<bool> QuantBiasInt32(const Node&, const Shape& w, int axis, const Shape& b) { return b[0] == w[axis]; }

}  // namespace

const OpDef& OpDef_Conv() {
  static const OpDef def{
      .name = "Conv",
      .min_inputs = 2,
      .max_inputs = 4,  // 4: the residual of passes/fuse_conv_add.h, only with dopt.fused_add
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .epilogue_anchor = EpilogueAnchor,
      .channels_last = ChannelsLast,
      .upgrade = NoUpgradeNeeded("11: auto_pad/pads text only (ONNX's version converter: compatible); 22 (types) is "
                                 "past 21").Since(1),
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
