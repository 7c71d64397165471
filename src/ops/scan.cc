// Scan (opset 9 and newer): runs `body` once per slice of the scan inputs. Inputs: N initial
// state values, then `num_scan_inputs` (M) scan inputs sliced along scan_input_axes (default
// 0), forwards or backwards (scan_input_directions 1). Body inputs: (N states, M slices); body
// outputs: (N states, K scan-output slices). The node's outputs: the final states, and each
// scan output's slices stacked along scan_output_axes (default 0), in reverse order for
// scan_output_directions 1. The body reads the enclosing graphs' values by name (outer
// scope). Scan-8 (batch axis, sequence_lens) is not supported. Runs only in the executor.
#include "ops/op_util.h"
#include "ops/subgraph_util.h"

namespace dopt {
namespace {

struct ScanAttrs {
  int states = 0;  // N
  int inputs = 0;  // M
  int scans = 0;   // K
  std::vector<int64_t> in_axes, in_dirs, out_axes, out_dirs;
};

StatusOr<ScanAttrs> ReadAttrs(const Node& node, const Graph& body, int num_inputs, int num_outputs) {
  if (node.opset_version > 0 && node.opset_version < 9) {
    return Unimplemented(node.Describe() + ": Scan-8 (batch axis and sequence_lens) is not supported; opset 9 and "
                         "newer Scan is");
  }
  ScanAttrs a;
  DOPT_ASSIGN_OR_RETURN(int64_t m, node.GetInt("num_scan_inputs", -1));
  if (m < 1 || m > num_inputs) {
    return InvalidArgument(node.Describe() + ": num_scan_inputs must be 1 to the " + std::to_string(num_inputs) +
                           " inputs, got " + std::to_string(m));
  }
  a.inputs = (int)m;
  a.states = num_inputs - a.inputs;
  a.scans = num_outputs - a.states;
  if (a.scans < 0) {
    return InvalidArgument(node.Describe() + ": has " + std::to_string(a.states) + " state inputs but only " +
                           std::to_string(num_outputs) + " outputs");
  }
  if ((int)body.inputs.size() != a.states + a.inputs) {
    return InvalidArgument(node.Describe() + ": the body takes " + std::to_string(body.inputs.size()) +
                           " inputs, the node gives it " + std::to_string(a.states + a.inputs));
  }
  if ((int)body.outputs.size() != a.states + a.scans) {
    return InvalidArgument(node.Describe() + ": the body has " + std::to_string(body.outputs.size()) +
                           " outputs, the node has " + std::to_string(num_outputs));
  }
  auto list = [&](const char* name, int n, std::vector<int64_t>* out, bool direction) -> Status {
    DOPT_ASSIGN_OR_RETURN(*out, node.GetInts(name, std::vector<int64_t>(n, 0)));
    if ((int)out->size() != n) {
      return InvalidArgument(node.Describe() + ": attribute '" + name + "' has " + std::to_string(out->size()) +
                             " values, need " + std::to_string(n));
    }
    if (direction)
      for (int64_t d : *out)
        if (d != 0 && d != 1) return InvalidArgument(node.Describe() + ": '" + name + "' values must be 0 or 1");
    return Status::Ok();
  };
  DOPT_RETURN_IF_ERROR(list("scan_input_axes", a.inputs, &a.in_axes, false));
  DOPT_RETURN_IF_ERROR(list("scan_input_directions", a.inputs, &a.in_dirs, true));
  DOPT_RETURN_IF_ERROR(list("scan_output_axes", a.scans, &a.out_axes, false));
  DOPT_RETURN_IF_ERROR(list("scan_output_directions", a.scans, &a.out_dirs, true));
  return a;
}

Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  DOPT_ASSIGN_OR_RETURN(const Graph* body, SubgraphAttr(node, "body"));
  DOPT_ASSIGN_OR_RETURN(ScanAttrs a, ReadAttrs(node, *body, ctx.num_inputs(), ctx.num_outputs()));
  int64_t length = -1;  // the number of iterations, when known
  for (int j = 0; j < a.inputs; ++j) {
    const ValueInfo& in = ctx.input(a.states + j);
    if (!in.rank_known) continue;
    DOPT_ASSIGN_OR_RETURN(int axis, NormalizeAxis(node, a.in_axes[j], (int)in.shape.size()));
    int64_t d = in.shape[axis];
    if (d < 0) continue;
    if (length >= 0 && d != length) {
      return InvalidArgument(node.Describe() + ": scan inputs have " + std::to_string(length) + " and " +
                             std::to_string(d) + " slices");
    }
    length = d;
  }
  for (int i = 0; i < a.states; ++i) {
    ValueInfo m = MergeInfos(ctx.input(i), InfoOfValue(body->value(body->outputs[i])));
    if (m.dtype == DType::kUndefined) m.dtype = ctx.input(i).dtype;
    if (m.rank_known) ctx.SetOutput(i, m.dtype, m.shape);
    else ctx.SetOutputUnknownRank(i, m.dtype);
  }
  for (int k = 0; k < a.scans; ++k) {
    ValueInfo s = InfoOfValue(body->value(body->outputs[a.states + k]));
    if (!s.rank_known) {
      ctx.SetOutputUnknownRank(a.states + k, s.dtype);
      continue;
    }
    DOPT_ASSIGN_OR_RETURN(int axis, NormalizeAxis(node, a.out_axes[k], (int)s.shape.size() + 1));
    Shape shape = s.shape;
    shape.insert(shape.begin() + axis, length);
    ctx.SetOutput(a.states + k, s.dtype, shape);
  }
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  DOPT_ASSIGN_OR_RETURN(const Graph* body, SubgraphAttr(node, "body"));
  DOPT_ASSIGN_OR_RETURN(ScanAttrs a, ReadAttrs(node, *body, ctx.num_inputs(), ctx.num_outputs()));
  DOPT_ASSIGN_OR_RETURN(SubgraphRunner * runner, RunnerOf(ctx));
  int64_t length = -1;
  std::vector<int> in_axes(a.inputs);
  for (int j = 0; j < a.inputs; ++j) {
    const Tensor& in = ctx.input(a.states + j);
    DOPT_ASSIGN_OR_RETURN(in_axes[j], NormalizeAxis(node, a.in_axes[j], in.rank()));
    int64_t d = in.dim(in_axes[j]);
    if (length >= 0 && d != length) {
      return InvalidArgument(node.Describe() + ": scan inputs have " + std::to_string(length) + " and " +
                             std::to_string(d) + " slices");
    }
    length = d;
  }
  std::vector<Tensor> states;
  for (int i = 0; i < a.states; ++i) states.push_back(ctx.input(i));
  std::vector<std::vector<Tensor>> scans(a.scans);
  for (int64_t t = 0; t < length; ++t) {
    std::vector<Tensor> ins = states;
    for (int j = 0; j < a.inputs; ++j)
      ins.push_back(TakeAlong(ctx.input(a.states + j), in_axes[j], a.in_dirs[j] ? length - 1 - t : t));
    auto outs = runner->Run(*body, ins);
    if (!outs.ok()) return outs.status().WithContext("body, iteration " + std::to_string(t));
    states.assign(outs->begin(), outs->begin() + a.states);
    for (int k = 0; k < a.scans; ++k) scans[k].push_back(std::move((*outs)[a.states + k]));
  }
  for (int i = 0; i < a.states; ++i) ctx.SetOutput(i, std::move(states[i]));
  for (int k = 0; k < a.scans; ++k) {
    if (scans[k].empty()) {  // no slices: the body's output shape with 0 along the axis
      const Value& v = body->value(body->outputs[a.states + k]);
      if (!v.ShapeFullyKnown()) {
        return InvalidArgument(node.Describe() + ": the scan inputs have no slices and the shape of scan output " +
                               std::to_string(k) + " is unknown");
      }
      DOPT_ASSIGN_OR_RETURN(int axis, NormalizeAxis(node, a.out_axes[k], (int)v.shape.size() + 1));
      Shape shape = v.shape;
      shape.insert(shape.begin() + axis, 0);
      ctx.Output(a.states + k, v.dtype == DType::kUndefined ? DType::kFloat32 : ComputeDType(v.dtype), shape);
      continue;
    }
    DOPT_ASSIGN_OR_RETURN(int axis, NormalizeAxis(node, a.out_axes[k], scans[k][0].rank() + 1));
    DOPT_ASSIGN_OR_RETURN(Tensor stacked, StackAlong(node, scans[k], axis, a.out_dirs[k] != 0));
    ctx.SetOutput(a.states + k, std::move(stacked));
  }
  return Status::Ok();
}

Status Upgrade(Graph& g, int ni, int from, int /*to*/) {
  if (from < 9) {
    return Unimplemented(g.nodes[ni].Describe() + ": upgrading Scan-8 (batch axis, sequence_lens) to Scan-9 is not "
                         "supported");
  }
  return Status::Ok();  // 11: negative axes; 16, 19, 21: types
}

}  // namespace

const OpDef& OpDef_Scan() {
  static const OpDef def{
      .name = "Scan",
      .min_inputs = 0,  // Scan-8's first input (sequence_lens) is optional; its shape rule says why it fails
      .max_inputs = 1 << 16,
      .min_outputs = 1,
      .max_outputs = 1 << 16,
      .infer = Infer,
      .run = Run,
      .foldable = false,  // the body runs in the executor, which constant folding has not
      .upgrade = UpgradeBy(Upgrade),
      .quant = NoQuantRole(),  // its body stays float
  };
  return def;
}

}  // namespace dopt
