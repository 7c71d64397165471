// Split: cuts input 0 along `axis` into parts given by `split` (attribute before opset 13,
// input 1 from 13), or into equal parts (opset 18 `num_outputs`, else one per output; the
// last part is smaller when the size does not divide). Any dtype.
#include <cstring>

#include "ir/graph_edit.h"
#include "ops/op_upgrade.h"
#include "ops/op_util.h"

namespace dopt {
namespace {

// Part sizes along the axis; `dim` may be -1 (unknown), then equal parts are unknown (-1).
// `split_known` false: the split input exists but is not constant (all parts unknown).
StatusOr<std::vector<int64_t>> Parts(const Node& node, int num_outputs, int64_t dim, const std::vector<int64_t>* split) {
  std::vector<int64_t> parts;
  if (split) {
    if ((int)split->size() != num_outputs) {
      return InvalidArgument(node.Describe() + ": split has " + std::to_string(split->size()) + " entries for " +
                             std::to_string(num_outputs) + " outputs");
    }
    int64_t sum = 0;
    for (int64_t s : *split) {
      if (s < 0) return InvalidArgument(node.Describe() + ": negative split size " + std::to_string(s));
      sum += s;
    }
    if (dim >= 0 && sum != dim) {
      return InvalidArgument(node.Describe() + ": split sizes sum to " + std::to_string(sum) + " but the axis has " +
                             std::to_string(dim));
    }
    return *split;
  }
  DOPT_ASSIGN_OR_RETURN(int64_t n, node.GetInt("num_outputs", num_outputs));
  if (n != num_outputs || n <= 0) {
    return InvalidArgument(node.Describe() + ": num_outputs is " + std::to_string(n) + " but the node has " +
                           std::to_string(num_outputs) + " outputs");
  }
  if (dim < 0) return std::vector<int64_t>(n, -1);
  int64_t chunk = (dim + n - 1) / n;
  int64_t left = dim;
  for (int64_t i = 0; i < n; ++i) {
    int64_t p = std::min(chunk, left);
    parts.push_back(p);
    left -= p;
  }
  if (node.opset_version < 18 && dim % n != 0) {
    return InvalidArgument(node.Describe() + ": axis of size " + std::to_string(dim) + " does not split into " +
                           std::to_string(n) + " equal parts");
  }
  return parts;
}

Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  const ValueInfo& x = ctx.input(0);
  if (!x.rank_known) {
    for (int o = 0; o < ctx.num_outputs(); ++o) ctx.SetOutputUnknownRank(o, x.dtype);
    return Status::Ok();
  }
  DOPT_ASSIGN_OR_RETURN(int64_t axis_attr, node.GetInt("axis", 0));
  DOPT_ASSIGN_OR_RETURN(int axis, NormalizeAxis(node, axis_attr, (int)x.shape.size()));
  if (x.shape.empty()) return InvalidArgument(node.Describe() + ": input must have rank >= 1");
  std::vector<int64_t> split;
  bool have_split = false, split_unknown = false;
  if (ctx.has_input(1)) {
    DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kInt64}));
    if (ctx.input(1).value) {
      split = ctx.input(1).value->ToInt64Vector();
      have_split = true;
    } else {
      split_unknown = true;
    }
  } else if (node.HasAttr("split")) {
    DOPT_ASSIGN_OR_RETURN(split, node.GetInts("split"));
    have_split = true;
  }
  std::vector<int64_t> parts(ctx.num_outputs(), -1);
  if (!split_unknown) {
    DOPT_ASSIGN_OR_RETURN(parts, Parts(node, ctx.num_outputs(), x.shape[axis], have_split ? &split : nullptr));
  }
  for (int o = 0; o < ctx.num_outputs(); ++o) {
    Shape s = x.shape;
    s[axis] = parts[o];
    ctx.SetOutput(o, x.dtype, s);
  }
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  const Tensor& x = ctx.input(0);
  DOPT_ASSIGN_OR_RETURN(int64_t axis_attr, node.GetInt("axis", 0));
  DOPT_ASSIGN_OR_RETURN(int axis, NormalizeAxis(node, axis_attr, x.rank()));
  if (x.rank() == 0) return InvalidArgument(node.Describe() + ": input must have rank >= 1");
  std::vector<int64_t> split;
  bool have_split = false;
  if (ctx.has_input(1)) {
    split = ctx.input(1).ToInt64Vector();
    have_split = true;
  } else if (node.HasAttr("split")) {
    DOPT_ASSIGN_OR_RETURN(split, node.GetInts("split"));
    have_split = true;
  }
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> parts,
                        Parts(node, ctx.num_outputs(), x.dim(axis), have_split ? &split : nullptr));
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= x.dim(d);
  for (int d = axis + 1; d < x.rank(); ++d) inner *= x.dim(d);
  const size_t es = DTypeSize(x.dtype());
  const size_t in_row = (size_t)(x.dim(axis) * inner) * es;
  const uint8_t* xp = static_cast<const uint8_t*>(x.raw());
  size_t off = 0;
  for (int o = 0; o < ctx.num_outputs(); ++o) {
    Shape s = x.shape();
    s[axis] = parts[o];
    Tensor& y = ctx.Output(o, x.dtype(), s);
    const size_t row = (size_t)(parts[o] * inner) * es;
    uint8_t* yp = static_cast<uint8_t*>(y.raw());
    if (row) {
      for (int64_t r = 0; r < outer; ++r) std::memcpy(yp + r * row, xp + r * in_row + off, row);
    }
    off += row;
  }
  return Status::Ok();
}

// Opset upgrade: 13 turns the split attribute into an optional int64 input. 18: with no split
// input the num_outputs attribute is required (equal parts; ONNX's Split_17_18 adapter sets it
// to the number of outputs); the parts are the same as before, since older versions required
// an even split then. 11: negative axis allowed.
Status Upgrade(Graph& g, int ni, int from, int to) {
  Node& n = g.nodes[ni];
  DOPT_RETURN_IF_ERROR(NeedUpgradeInputs(n, 1));
  if (OpsetCrosses(from, to, 13) && n.HasAttr("split")) {
    n.dirty = true;
    DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> split, n.GetInts("split"));
    int id = AddInt64Initializer(g, n.name + "_split", split);
    Node& m = g.nodes[ni];
    RemoveAttr(m, "split");
    m.inputs.resize(1);
    SetUpgradeInput(m, 1, id);
  }
  Node& m = g.nodes[ni];
  if (OpsetCrosses(from, to, 18) && (m.inputs.size() < 2 || m.inputs[1] < 0) && !m.HasAttr("num_outputs")) {
    TrimTrailingOmitted(m.inputs);
    SetAttr(m, "num_outputs", IntAttr((int64_t)m.outputs.size()));
    m.dirty = true;
  }
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_Split() {
  static const OpDef def{
      .name = "Split",
      .min_inputs = 1,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1 << 20,
      .infer = Infer,
      .run = Run,
      .upgrade = UpgradeBy(Upgrade).Since(2),
      .quant = SharesInputScale(),  // every output selects elements of input 0
  };
  return def;
}

}  // namespace dopt
