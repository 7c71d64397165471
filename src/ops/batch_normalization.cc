// BatchNormalization: y = (x - mean) / sqrt(var + epsilon) * scale + B, per channel (axis 1).
// Opset 7's spatial=0 form (per-activation statistics) is supported. training_mode=1 (opset 14+)
// normalises with the statistics of x itself (mean and population variance over every axis but
// 1) and may output running_mean = mean * momentum + batch mean * (1 - momentum) and likewise
// running_var: exporters use it for weight standardisation (transformers' BiT: a constant x
// that dopt folds). The training outputs of opsets < 14 (saved mean/var) are not supported.
// In inference with one value per channel (a BN that no Conv absorbed: DenseNet's pre-activation
// BN after each Concat), it runs channels-last and is an epilogue anchor: the ReLU after it is
// applied to each block while it is in cache (one pass over the tensor instead of two).
#include <cmath>

#include "kernels/epilogue.h"
#include "kernels/moments.h"

#include "ir/graph_edit.h"
#include "ops/op_upgrade.h"
#include "ops/op_util.h"

namespace dopt {
namespace {

#define FLOAT_TYPES {DType::kFloat32, DType::kFloat16, DType::kBFloat16}

// Returns whether the node is in training mode.
StatusOr<bool> CheckAttrs(const Node& node, int num_outputs, const std::vector<int>* outputs) {
  DOPT_ASSIGN_OR_RETURN(int64_t training, node.GetInt("training_mode", 0));
  if (training != 0 && node.opset_version < 14) {
    return Unimplemented(node.Describe() + ": training_mode before opset 14");
  }
  if (training != 0) {
    if (num_outputs > 3) return InvalidArgument(node.Describe() + ": training mode has at most 3 outputs");
    return true;
  }
  bool extra = false;
  if (outputs) {
    for (size_t i = 1; i < outputs->size(); ++i)
      if ((*outputs)[i] >= 0) extra = true;
  } else {
    extra = num_outputs > 1;
  }
  if (extra) {
    return Unimplemented(node.Describe() +
                         ": only output 0 (Y) is supported; the running/saved mean and variance outputs are training-only");
  }
  return false;
}

Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  DOPT_ASSIGN_OR_RETURN(bool training, CheckAttrs(node, ctx.num_outputs(), &node.outputs));
  for (int i = 0; i < 5; ++i) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, i, FLOAT_TYPES));
  const ValueInfo& x = ctx.input(0);
  if (x.rank_known && x.shape.size() < 2) {
    return InvalidArgument(node.Describe() + ": input X must have rank >= 2, got " + ShapeToString(x.shape));
  }
  DOPT_ASSIGN_OR_RETURN(int64_t spatial, node.GetInt("spatial", 1));
  const size_t caxis = IsChannelsLast(node) && x.rank_known && x.shape.size() == 4 ? 3 : 1;
  if (x.rank_known && x.shape[caxis] >= 0 && (spatial != 0 || node.opset_version >= 9)) {
    for (int i = 1; i < 5; ++i) {
      const ValueInfo& p = ctx.input(i);
      if (p.rank_known && p.shape.size() == 1 && p.shape[0] >= 0 && p.shape[0] != x.shape[caxis]) {
        return InvalidArgument(node.Describe() + ": input " + std::to_string(i) + " has shape " + ShapeToString(p.shape) +
                               " but X " + ShapeToString(x.shape) + " has " + std::to_string(x.shape[caxis]) + " channels");
      }
    }
  }
  DOPT_RETURN_IF_ERROR(InferSameAsInput0(ctx));
  if (training) {
    const int64_t c = x.rank_known && x.shape.size() >= 2 ? x.shape[caxis] : -1;
    for (int i = 1; i < ctx.num_outputs(); ++i) ctx.SetOutput(i, x.dtype, Shape{c});
  }
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  DOPT_ASSIGN_OR_RETURN(bool training, CheckAttrs(node, ctx.num_outputs(), &node.outputs));
  DOPT_ASSIGN_OR_RETURN(float eps, node.GetFloat("epsilon", 1e-5f));
  DOPT_ASSIGN_OR_RETURN(float momentum, node.GetFloat("momentum", 0.9f));
  const Tensor& x = ctx.input(0);
  for (int i = 0; i < 5; ++i) {
    if (ctx.input(i).dtype() != DType::kFloat32) {
      return InvalidArgument(node.Describe() + ": expected float inputs, input " + std::to_string(i) + " is " +
                             DTypeName(ctx.input(i).dtype()));
    }
  }
  if (x.rank() < 2) return InvalidArgument(node.Describe() + ": input X must have rank >= 2");
  DOPT_ASSIGN_OR_RETURN(std::vector<kernels::EpilogueStep> epilogue, GetEpilogueAttrs(node));
  // Channels-last ([N, H, W, C]): rows of C values, as [N * H * W, C].
  const bool nhwc = IsChannelsLast(node);
  if (nhwc && x.rank() != 4) return InvalidArgument(node.Describe() + ": channels-last input must be 4-D");
  const int64_t N = nhwc ? x.numel() / std::max<int64_t>(1, x.dim(3)) : x.dim(0), C = x.dim(nhwc ? 3 : 1);
  const int64_t inner = nhwc ? 1 : (N * C) != 0 ? x.numel() / (N * C) : 0;
  // Per-channel (C values) or, for spatial=0, per-activation (C * inner values) parameters.
  const int64_t pn = ctx.input(1).numel();
  const bool per_act = !training && pn != C && pn == C * inner;
  const int64_t want = per_act ? C * inner : C;
  for (int i = 1; i < 5; ++i) {
    if (ctx.input(i).numel() != want) {
      return InvalidArgument(node.Describe() + ": input " + std::to_string(i) + " has shape " +
                             ShapeToString(ctx.input(i).shape()) + ", expected " + std::to_string(C) + " values (X is " +
                             ShapeToString(x.shape()) + ")");
    }
  }
  const float* sc = ctx.input(1).data<float>();
  const float* bi = ctx.input(2).data<float>();
  const float* mu = ctx.input(3).data<float>();
  const float* va = ctx.input(4).data<float>();
  std::vector<float> batch_mean, batch_var;
  if (training) {  // the statistics of x, per channel, in double
    batch_mean.assign((size_t)C, 0.f);
    batch_var.assign((size_t)C, 0.f);
    const float* xp = x.data<float>();
    const double count = (double)(N * inner);
    for (int64_t c = 0; c < C; ++c) {
      double s = 0, s2 = 0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < inner; ++i) s += xp[(n * C + c) * inner + i];
      const double m = count > 0 ? s / count : 0.0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < inner; ++i) {
          const double d = xp[(n * C + c) * inner + i] - m;
          s2 += d * d;
        }
      batch_mean[c] = (float)m;
      batch_var[c] = (float)(count > 0 ? s2 / count : 0.0);
    }
    for (int o = 1; o < ctx.num_outputs() && o < 3; ++o) {
      const float* run = o == 1 ? mu : va;
      const std::vector<float>& cur = o == 1 ? batch_mean : batch_var;
      Tensor& r = ctx.Output(o, DType::kFloat32, {C});
      for (int64_t c = 0; c < C; ++c) r.data<float>()[c] = run[c] * momentum + cur[c] * (1.f - momentum);
    }
    mu = batch_mean.data();
    va = batch_var.data();
  }
  std::vector<float> a((size_t)want), b((size_t)want);
  for (int64_t i = 0; i < want; ++i) {
    a[i] = sc[i] / std::sqrt(va[i] + eps);
    b[i] = bi[i] - mu[i] * a[i];
  }
  Tensor& y = ctx.OutputUninitialized(0, DType::kFloat32, x.shape());
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  if (!epilogue.empty() && (training || per_act)) {
    return InvalidArgument(node.Describe() + ": an epilogue needs inference with one value per channel");
  }
  for (const kernels::EpilogueStep& st : epilogue) {
    if (!st.channel_c.empty() && (int64_t)st.channel_c.size() != C) {
      return InvalidArgument(node.Describe() + ": dopt.epilogue_channels has " + std::to_string(st.channel_c.size()) +
                             " values per step for " + std::to_string(C) + " channels");
    }
  }
  if (inner == 1 && !per_act) {  // [N, C] (after a Linear: LeViT) or channels-last: rows of C, the same formula
    const float* ap = a.data();
    const float* bp = b.data();
    const int64_t rows_per_block = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, C));
    ParallelForOrInline(ctx.pool(), N, rows_per_block, [&](int64_t r0, int64_t r1) {
      for (int64_t rb = r0; rb < r1; rb += rows_per_block) {  // blocks of ~64 KiB: the epilogue reads them from cache
        const int64_t re = std::min(r1, rb + rows_per_block);
        kernels::ScaleShiftRows(xp + rb * C, yp + rb * C, re - rb, C, ap, bp);
        if (!epilogue.empty()) kernels::ApplyEpilogueChannelsLast(epilogue, yp + rb * C, re - rb, C);
      }
    });
    return Status::Ok();
  }
  auto body = [&](int64_t s, int64_t e) {
    for (int64_t p = s; p < e; ++p) {
      const int64_t c = p % C;
      const float* xi = xp + p * inner;
      float* yi = yp + p * inner;
      if (per_act) {
        const float* ac = a.data() + c * inner;
        const float* bc = b.data() + c * inner;
        for (int64_t i = 0; i < inner; ++i) yi[i] = xi[i] * ac[i] + bc[i];
      } else {
        kernels::ScaleShift(xi, yi, inner, a[c], b[c]);
        if (!epilogue.empty()) kernels::ApplyEpilogue(epilogue, yi, inner, c);
      }
    }
  };
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, inner));
  if (ctx.pool()) ctx.pool()->ParallelFor(N * C, grain, body);
  else body(0, N * C);
  return Status::Ok();
}

// Inference with constant parameters of one value per channel (what the two hooks below need).
bool PerChannelInference(const Graph& g, const Node& n) {
  // Asked of the channels-first graph (epilogues are fused before the channels_last pass).
  const StatusOr<int64_t> training = n.GetInt("training_mode", 0);
  if (IsChannelsLast(n) || n.outputs.size() != 1 || n.inputs.size() != 5 || !training.ok() || *training != 0) return false;
  const Value& x = g.value(n.inputs[0]);
  if (!x.rank_known || x.shape.size() < 2 || x.shape[1] <= 0) return false;
  for (int i = 1; i < 5; ++i) {
    if (n.inputs[i] < 0) return false;
    const Value& p = g.value(n.inputs[i]);
    if (!p.IsConstant() || !p.rank_known || p.shape != Shape{x.shape[1]}) return false;
  }
  return true;
}

// Epilogues run per channel, axis 1 of [N, C, ...].
int EpilogueAnchor(const Graph& g, const Node& n) { return PerChannelInference(g, n) ? 1 : -1; }

bool ChannelsLast(const Graph& g, const Node& n, ChannelsLastPlan* plan) {
  return PerChannelInference(g, n) && KernelChannelsLast(g, n, plan);
}

// Opset upgrade: attributes of opsets < 7 are dropped (consumed_inputs; is_test must be
// inference); 9 removes `spatial` (only per-channel statistics remain); 14 allows only the Y
// output in inference (training_mode, default 0), so unused training outputs are dropped;
// 15: types.
Status Upgrade(Graph& g, int ni, int from, int to) {
  Node& n = g.nodes[ni];
  DOPT_RETURN_IF_ERROR(NeedUpgradeInputs(n, 5));
  if (n.HasAttr("consumed_inputs")) {
    RemoveAttr(n, "consumed_inputs");
    n.dirty = true;
  }
  if (n.HasAttr("is_test")) {
    DOPT_ASSIGN_OR_RETURN(int64_t is_test, n.GetInt("is_test", 0));
    if (is_test == 0 && n.outputs.size() > 1)
      return InvalidArgument(n.Describe() + ": cannot upgrade: is_test=0 with training outputs");
    RemoveAttr(n, "is_test");
    n.dirty = true;
  }
  if (OpsetCrosses(from, to, 9) && n.HasAttr("spatial")) {
    DOPT_ASSIGN_OR_RETURN(int64_t spatial, n.GetInt("spatial", 1));
    if (spatial == 0) {
      for (int i = 1; i < 5; ++i) {
        const Value& p = g.value(n.inputs[i]);
        if (!p.rank_known || p.shape.size() != 1)
          return InvalidArgument(n.Describe() + ": cannot upgrade: spatial=0 with per-activation input '" + p.name +
                                 "' (shape " + (p.rank_known ? ShapeToString(p.shape) : std::string("unknown")) +
                                 "); opset 9 keeps only per-channel statistics");
      }
    }
    RemoveAttr(n, "spatial");
    n.dirty = true;
  }
  if (OpsetCrosses(from, to, 14) && n.outputs.size() > 1) {
    for (size_t i = 1; i < n.outputs.size(); ++i) {
      if (n.outputs[i] >= 0 && ValueUsed(g, n.outputs[i]))
        return InvalidArgument(n.Describe() + ": cannot upgrade: training output '" + g.value(n.outputs[i]).name +
                               "' is used; opset 14 has it only in training mode");
    }
    for (size_t i = 1; i < n.outputs.size(); ++i)
      if (n.outputs[i] >= 0) g.values[n.outputs[i]].producer = -1;
    n.outputs.resize(1);
    n.dirty = true;
  }
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_BatchNormalization() {
  static const OpDef def{
      .name = "BatchNormalization",
      .min_inputs = 5,
      .max_inputs = 5,
      .min_outputs = 1,
      .max_outputs = 5,
      .infer = Infer,
      .run = Run,
      .epilogue_anchor = EpilogueAnchor,
      .channels_last = ChannelsLast,
      .upgrade = UpgradeBy(Upgrade),
      .quant = NoQuantRole(),  // an affine map per channel; dopt folds it into the preceding Conv
  };
  return def;
}

}  // namespace dopt
