// GroupNormalization (opsets 18 and 21): the C channels of x [N, C, ...] form num_groups groups
// of C / num_groups consecutive channels; each (n, group) is normalized with its own mean and
// variance, then scaled and shifted:
//   y = (x - mean) * (scale / sqrt(var + epsilon)) + bias,
// with scale and bias per group ([num_groups]) at opset 18 and per channel ([C]) from opset 21
// (which also adds stash_type; only 1, float32, is supported).
#include <cmath>
#include <cstring>
#include <vector>

#include "ir/graph_edit.h"
#include "ops/normalization_util.h"
#include "ops/op_upgrade.h"

namespace dopt {
namespace {

bool PerChannel(const Node& node) { return node.opset_version == 0 || node.opset_version >= 21; }

StatusOr<int64_t> GetGroups(const Node& node) {
  if (!node.HasAttr("num_groups")) return InvalidArgument(node.Describe() + ": attribute num_groups is required");
  DOPT_ASSIGN_OR_RETURN(int64_t g, node.GetInt("num_groups", 0));
  if (g <= 0) return InvalidArgument(node.Describe() + ": num_groups must be positive, got " + std::to_string(g));
  DOPT_ASSIGN_OR_RETURN(int64_t stash, node.GetInt("stash_type", 1));
  if (stash != 1)
    return Unimplemented(node.Describe() + ": stash_type " + std::to_string(stash) + " is not supported (only 1, float32)");
  return g;
}

// Checks C against num_groups and the scale/bias length (-1: unknown) against the opset's layout.
Status CheckShapes(const Node& node, int64_t groups, int64_t C, int i, int64_t len, bool rank1) {
  if (C >= 0 && C % groups != 0)
    return InvalidArgument(node.Describe() + ": " + std::to_string(C) + " channels do not divide into " +
                           std::to_string(groups) + " groups");
  const bool per_channel = PerChannel(node);
  const int64_t want = per_channel ? C : groups;
  if (!rank1 || (want >= 0 && len >= 0 && len != want))
    return InvalidArgument(node.Describe() + ": input " + std::to_string(i) + " (" + (i == 1 ? "scale" : "bias") +
                           ") must be 1-D with " + (per_channel ? "C = " : "num_groups = ") + std::to_string(want) +
                           " values at opset " + std::to_string(node.opset_version) + ", got " + std::to_string(len));
  return Status::Ok();
}

Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  DOPT_ASSIGN_OR_RETURN(int64_t groups, GetGroups(node));
  for (int i = 0; i < 3; ++i) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, i, DOPT_NORM_FLOAT_TYPES));
  const ValueInfo& x = ctx.input(0);
  if (x.rank_known && x.shape.size() < 2)
    return InvalidArgument(node.Describe() + ": input X must have rank >= 2, got " + ShapeToString(x.shape));
  const int64_t C = x.rank_known ? x.shape[1] : -1;
  for (int i = 1; i < 3; ++i) {
    const ValueInfo& p = ctx.input(i);
    if (p.rank_known) DOPT_RETURN_IF_ERROR(CheckShapes(node, groups, C, i, p.shape.empty() ? -1 : p.shape[0], p.shape.size() == 1));
    else if (C >= 0) DOPT_RETURN_IF_ERROR(CheckShapes(node, groups, C, i, -1, true));
  }
  return InferSameAsInput0(ctx);
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  DOPT_ASSIGN_OR_RETURN(int64_t groups, GetGroups(node));
  DOPT_RETURN_IF_ERROR(CheckFloatInputs(ctx));
  DOPT_ASSIGN_OR_RETURN(float eps, node.GetFloat("epsilon", 1e-5f));
  const Tensor& x = ctx.input(0);
  if (x.rank() < 2) return InvalidArgument(node.Describe() + ": input X must have rank >= 2");
  const int64_t N = x.dim(0), C = x.dim(1);
  for (int i = 1; i < 3; ++i)
    DOPT_RETURN_IF_ERROR(CheckShapes(node, groups, C, i, ctx.input(i).numel(), ctx.input(i).rank() == 1));
  const int64_t inner = (N * C) != 0 ? x.numel() / (N * C) : 0;
  const int64_t cpg = C / groups;  // channels per group
  const bool per_channel = PerChannel(node);
  const float* sc = ctx.input(1).data<float>();
  const float* bi = ctx.input(2).data<float>();
  const float* xp = x.data<float>();
  Tensor& y = ctx.OutputUninitialized(0, DType::kFloat32, x.shape());
  float* yp = y.data<float>();
  const int64_t group_size = cpg * inner;
  // The statistics of each (n, group): few large groups spread over the threads, many groups
  // one per task (the same bits either way: kernels/moments.h).
  std::vector<GroupStats> stats((size_t)(N * groups));
  const int threads = ctx.pool() ? ctx.pool()->num_threads() : 1;
  if (threads > 1 && N * groups < 2 * threads && group_size >= 2 * kernels::kMomentsChunk) {
    for (int64_t p = 0; p < N * groups; ++p)
      stats[(size_t)p] = kernels::ComputeMomentsParallel(xp + p * group_size, group_size, ctx.pool());
  } else {
    ParallelForOrInline(ctx.pool(), N * groups, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, group_size)),
                        [&](int64_t p0, int64_t p1) {
                          for (int64_t p = p0; p < p1; ++p) stats[(size_t)p] = ComputeGroupStats(xp + p * group_size, group_size);
                        });
  }
  // y = (x - mean) * (inv * scale) + bias, per (n, channel) plane.
  ParallelForOrInline(ctx.pool(), N * C, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, inner)),
                      [&](int64_t q0, int64_t q1) {
                        for (int64_t q = q0; q < q1; ++q) {
                          const int64_t n = q / C, c = q % C, g = c / cpg;
                          const GroupStats& st = stats[(size_t)(n * groups + g)];
                          const float inv = (float)(1.0 / std::sqrt(st.var + (double)eps));
                          const int64_t pi = per_channel ? c : g;
                          kernels::NormalizeAffine(xp + q * inner, yp + q * inner, inner, (float)st.mean, inv * sc[pi], bi[pi]);
                        }
                      });
  return Status::Ok();
}

// Opset 21: scale and bias become per channel. A constant per-group vector is repeated
// C / num_groups times into a new initializer; any other becomes
// Reshape(Expand(Unsqueeze(p, [1]), [1, C / num_groups]), [C]). Needs C (X's dim 1) known.
Status Upgrade(Graph& g, int ni, int from, int to) {
  if (!OpsetCrosses(from, to, 21)) return Status::Ok();
  DOPT_RETURN_IF_ERROR(NeedUpgradeInputs(g.nodes[ni], 3));
  const Node& n0 = g.nodes[ni];
  DOPT_ASSIGN_OR_RETURN(int64_t groups, n0.GetInt("num_groups", 0));
  if (groups <= 0) return InvalidArgument(n0.Describe() + ": num_groups must be positive");
  const Value& x = g.value(n0.inputs[0]);
  if (!x.rank_known || x.shape.size() < 2 || x.shape[1] < 0)
    return InvalidArgument(n0.Describe() + ": cannot upgrade to opset 21 (scale and bias become per channel): "
                           "the channel count of X '" + x.name + "' is unknown");
  const int64_t C = x.shape[1];
  if (C % groups != 0)
    return InvalidArgument(n0.Describe() + ": " + std::to_string(C) + " channels do not divide into " +
                           std::to_string(groups) + " groups");
  const int64_t cpg = C / groups;
  const std::string base = n0.name;
  for (int i = 1; i < 3; ++i) {
    const int pid = g.nodes[ni].inputs[i];
    const char* what = i == 1 ? "_scale" : "_bias";
    if (const Tensor* t = InitializerOf(g, pid)) {
      if (t->rank() != 1 || t->dim(0) != groups)
        return InvalidArgument(g.nodes[ni].Describe() + ": input " + std::to_string(i) + " has shape " +
                               ShapeToString(t->shape()) + ", expected [" + std::to_string(groups) + "]");
      Tensor pc(t->dtype(), {C});
      const size_t es = DTypeSize(t->dtype());
      for (int64_t c = 0; c < C; ++c)
        std::memcpy((char*)pc.raw() + c * es, (const char*)t->raw() + (c / cpg) * es, es);
      const int id = AddInitializerLike(g, base + what + "_per_channel", std::move(pc), pid);
      g.nodes[ni].inputs[i] = id;
    } else {
      const DType pdtype = g.value(pid).dtype;  // copied: adding values below moves g.values
      const int axes = AddInt64Initializer(g, base + what + "_axes", {1});
      const int eshape = AddInt64Initializer(g, base + what + "_expand_shape", {1, cpg});
      const int rshape = AddInt64Initializer(g, base + what + "_shape", {C});
      const int u = AddIntermediate(g, base + what + "_2d", pdtype);
      const int e = AddIntermediate(g, base + what + "_expanded", pdtype);
      const int r = AddIntermediate(g, base + what + "_per_channel", pdtype);
      AddUniqueNode(g, MakeNode("Unsqueeze", base + what + "_unsqueeze", {pid, axes}, {u}, {}, to));
      AddUniqueNode(g, MakeNode("Expand", base + what + "_expand", {u, eshape}, {e}, {}, to));
      AddUniqueNode(g, MakeNode("Reshape", base + what + "_reshape", {e, rshape}, {r}, {}, to));
      g.nodes[ni].inputs[i] = r;
    }
  }
  g.nodes[ni].dirty = true;
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_GroupNormalization() {
  static const OpDef def{
      .name = "GroupNormalization",
      .min_inputs = 3,
      .max_inputs = 3,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = UpgradeBy(Upgrade),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
