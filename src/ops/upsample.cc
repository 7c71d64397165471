// Upsample (deprecated Resize): `scales` attribute (opset 7) or input 1 (opset 9); modes
// nearest (floor of x / scale) and linear, both with asymmetric coordinates.
#include <cmath>

#include "ir/graph_edit.h"
#include "ops/op_upgrade.h"
#include "ops/op_util.h"

namespace dopt {
namespace {

StatusOr<std::string> GetMode(const Node& node) {
  DOPT_ASSIGN_OR_RETURN(std::string mode, node.GetString("mode", "nearest"));
  if (mode == "bilinear") mode = "linear";
  if (mode != "nearest" && mode != "linear") {
    return InvalidArgument(node.Describe() + ": unknown mode '" + mode + "'");
  }
  return mode;
}

Status OutShape(const Node& node, const Shape& in, const std::vector<double>& scales, Shape* out) {
  if (scales.size() != in.size()) {
    return InvalidArgument(node.Describe() + ": scales has " + std::to_string(scales.size()) +
                           " values for rank " + std::to_string(in.size()));
  }
  out->resize(in.size());
  for (size_t d = 0; d < in.size(); ++d) {
    if (!(scales[d] > 0)) return InvalidArgument(node.Describe() + ": scales must be positive");
    (*out)[d] = in[d] < 0 ? -1 : (int64_t)std::floor((double)in[d] * (double)(float)scales[d]);
  }
  return Status::Ok();
}

Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  DOPT_RETURN_IF_ERROR(GetMode(node).status());
  const ValueInfo& x = ctx.input(0);
  std::vector<double> scales;
  if (ctx.has_input(1)) {
    DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
    if (!ctx.input(1).value) {
      if (x.rank_known) ctx.SetOutput(0, x.dtype, Shape(x.shape.size(), -1));
      else ctx.SetOutputUnknownRank(0, x.dtype);
      return Status::Ok();
    }
    scales = ctx.input(1).value->ToDoubleVector();
  } else {
    if (!node.HasAttr("scales")) return InvalidArgument(node.Describe() + ": no scales attribute or input");
    DOPT_ASSIGN_OR_RETURN(std::vector<float> s, node.GetFloats("scales"));
    scales.assign(s.begin(), s.end());
  }
  if (!x.rank_known) {
    ctx.SetOutputUnknownRank(0, x.dtype);
    return Status::Ok();
  }
  Shape out;
  DOPT_RETURN_IF_ERROR(OutShape(node, x.shape, scales, &out));
  ctx.SetOutput(0, x.dtype, out);
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  const Tensor& x = ctx.input(0);
  ResizeSpec spec;
  DOPT_ASSIGN_OR_RETURN(spec.mode, GetMode(node));
  std::vector<double> scales;
  if (ctx.has_input(1)) {
    scales = ctx.input(1).ToDoubleVector();
  } else {
    DOPT_ASSIGN_OR_RETURN(std::vector<float> s, node.GetFloats("scales"));
    scales.assign(s.begin(), s.end());
  }
  DOPT_RETURN_IF_ERROR(OutShape(node, x.shape(), scales, &spec.out_shape));
  spec.scales.assign(scales.begin(), scales.end());
  spec.coord_mode = "asymmetric";
  spec.nearest_mode = "floor";
  Tensor y;
  DOPT_RETURN_IF_ERROR(RunResizeKernel(node, x, spec, &y, ctx.pool()));
  ctx.SetOutput(0, std::move(y));
  return Status::Ok();
}

// Opset upgrade: Upsample is deprecated at 10: it becomes Resize-10 (same inputs, same
// sampling), then Resize's own rule. Upsample < 9 holds its scales in an attribute.
Status Upgrade(Graph& g, int ni, int from, int to) {
  if (!OpsetCrosses(from, to, 10)) return Status::Ok();
  Node& n = g.nodes[ni];
  DOPT_RETURN_IF_ERROR(NeedUpgradeInputs(n, 1));
  DOPT_ASSIGN_OR_RETURN(std::string mode, n.GetString("mode", "nearest"));
  if (mode == "bilinear") mode = "linear";
  if (mode != "nearest" && mode != "linear")
    return InvalidArgument(n.Describe() + ": cannot upgrade: unknown mode '" + mode + "'");
  n.dirty = true;
  if (from < 9) {
    if (!n.HasAttr("scales")) return InvalidArgument(n.Describe() + ": cannot upgrade: no 'scales' attribute");
    DOPT_ASSIGN_OR_RETURN(std::vector<float> scales, n.GetFloats("scales"));
    int id = AddInitializer(g, n.name + "_scales", Tensor::FromFloats({(int64_t)scales.size()}, scales));
    Node& m = g.nodes[ni];
    RemoveAttr(m, "scales");
    m.inputs.resize(1);
    SetUpgradeInput(m, 1, id);
  } else if (n.inputs.size() != 2 || n.inputs[1] < 0) {
    return InvalidArgument(n.Describe() + ": cannot upgrade: expected inputs (X, scales)");
  }
  Node& m = g.nodes[ni];
  m.op_type = "Resize";
  m.op = nullptr;
  SetAttr(m, "mode", StringAttr(mode));
  if (to < 11) return Status::Ok();
  return UpgradeResize10To11(g, ni, to, true);
}

// Quantization: nearest sampling selects elements; linear interpolation rounds.
bool SharesScale(const Graph&, const Node& n) {
  auto mode = GetMode(n);
  return mode.ok() && *mode == "nearest";
}

}  // namespace

const OpDef& OpDef_Upsample() {
  static const OpDef def{
      .name = "Upsample",
      .min_inputs = 1,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = UpgradeBy(Upgrade),
      .quant = SharesInputScale(0, SharesScale),
  };
  return def;
}

}  // namespace dopt
