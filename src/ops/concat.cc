// Concat: joins inputs of one dtype along `axis` (negative allowed); works on raw bytes.
#include <cstring>

#include "ir/graph_edit.h"
#include "ops/op_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  DOPT_ASSIGN_OR_RETURN(int64_t axis_attr, node.GetInt("axis", INT64_MIN));
  if (axis_attr == INT64_MIN) return InvalidArgument(node.Describe() + ": missing attribute 'axis'");
  DType t = DType::kUndefined;
  int rank = -1;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const ValueInfo& in = ctx.input(i);
    if (!ctx.has_input(i)) return InvalidArgument(node.Describe() + ": input " + std::to_string(i) + " is missing");
    if (in.dtype != DType::kUndefined) {
      if (t != DType::kUndefined && t != in.dtype) {
        return InvalidArgument(node.Describe() + ": inputs have different types " + DTypeName(t) + " and " +
                               DTypeName(in.dtype));
      }
      t = in.dtype;
    }
    if (in.rank_known) {
      if (rank >= 0 && rank != (int)in.shape.size()) {
        return InvalidArgument(node.Describe() + ": inputs have different ranks " + std::to_string(rank) + " and " +
                               std::to_string(in.shape.size()));
      }
      rank = (int)in.shape.size();
    }
  }
  if (rank < 0) {
    ctx.SetOutputUnknownRank(0, t);
    return Status::Ok();
  }
  DOPT_ASSIGN_OR_RETURN(int axis, NormalizeAxis(node, axis_attr, rank));
  if (rank == 0) return InvalidArgument(node.Describe() + ": inputs must have rank >= 1");
  Shape out(rank, -1);
  int64_t sum = 0;
  bool sum_known = true;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const ValueInfo& in = ctx.input(i);
    if (!in.rank_known) {
      sum_known = false;
      continue;
    }
    for (int d = 0; d < rank; ++d) {
      int64_t v = in.shape[d];
      if (d == axis) {
        if (v < 0) sum_known = false;
        else sum += v;
      } else if (v >= 0) {
        if (out[d] >= 0 && out[d] != v) {
          return InvalidArgument(node.Describe() + ": input " + std::to_string(i) + " has shape " +
                                 ShapeToString(in.shape) + ", which does not match the others off axis " +
                                 std::to_string(axis));
        }
        out[d] = v;
      }
    }
  }
  out[axis] = sum_known ? sum : -1;
  ctx.SetOutput(0, t, out);
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  DOPT_ASSIGN_OR_RETURN(int64_t axis_attr, node.GetInt("axis", 0));
  const Tensor& x0 = ctx.input(0);
  const int rank = x0.rank();
  DOPT_ASSIGN_OR_RETURN(int axis, NormalizeAxis(node, axis_attr, rank));
  if (rank == 0) return InvalidArgument(node.Describe() + ": inputs must have rank >= 1");
  Shape out = x0.shape();
  out[axis] = 0;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const Tensor& in = ctx.input(i);
    if (in.dtype() != x0.dtype() || in.rank() != rank) {
      return InvalidArgument(node.Describe() + ": input " + std::to_string(i) + " is " + DTypeName(in.dtype()) +
                             ShapeToString(in.shape()) + ", input 0 is " + DTypeName(x0.dtype()) +
                             ShapeToString(x0.shape()));
    }
    for (int d = 0; d < rank; ++d) {
      if (d != axis && in.dim(d) != out[d]) {
        return InvalidArgument(node.Describe() + ": input " + std::to_string(i) + " has shape " +
                               ShapeToString(in.shape()) + ", input 0 has " + ShapeToString(x0.shape()));
      }
    }
    out[axis] += in.dim(axis);
  }
  Tensor& y = ctx.OutputUninitialized(0, x0.dtype(), out);
  if (y.numel() == 0) return Status::Ok();
  const size_t es = DTypeSize(x0.dtype());
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= out[d];
  for (int d = axis + 1; d < rank; ++d) inner *= out[d];
  const size_t out_row = (size_t)(out[axis] * inner) * es;
  uint8_t* yp = static_cast<uint8_t*>(y.raw());
  auto body = [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      size_t off = 0;
      for (int i = 0; i < ctx.num_inputs(); ++i) {
        const Tensor& in = ctx.input(i);
        const size_t row = (size_t)(in.dim(axis) * inner) * es;
        if (row == 0) continue;
        std::memcpy(yp + o * out_row + off, static_cast<const uint8_t*>(in.raw()) + o * row, row);
        off += row;
      }
    }
  };
  if (ctx.pool()) ctx.pool()->ParallelFor(outer, std::max<int64_t>(1, (1 << 16) / (int64_t)std::max<size_t>(out_row, 1)), body);
  else body(0, outer);
  return Status::Ok();
}

// Channels-last: 4-D float activations only; the axis is renumbered ([N, C, H, W] axis a is
// [N, H, W, C] axis {0, 3, 1, 2}[a]).
bool ChannelsLast(const Graph& g, const Node& n, ChannelsLastPlan* plan) {
  if (n.inputs.empty() || n.inputs.size() > 64 || n.outputs.size() != 1) return false;
  ChannelsLastPlan p;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const int v = n.inputs[i];
    if (v < 0 || g.value(v).IsConstant()) return false;
    const Value& val = g.value(v);
    if (!val.rank_known || val.shape.size() != 4 || !IsFloat(val.dtype)) return false;
    p.inputs |= uint64_t{1} << i;
  }
  auto axis = n.GetInt("axis", INT64_MIN);
  if (!axis.ok() || *axis < -4 || *axis > 3) return false;
  static constexpr int64_t kRenumber[4] = {0, 3, 1, 2};
  p.set_attrs = {{"axis", IntAttr(kRenumber[(*axis + 4) % 4])}};
  *plan = std::move(p);
  return true;
}

}  // namespace

const OpDef& OpDef_Concat() {
  static const OpDef def{
      .name = "Concat",
      .min_inputs = 1,
      .max_inputs = 1 << 20,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .channels_last = ChannelsLast,
      .upgrade = NoUpgradeNeeded("11: negative axis allowed; 13: types").Since(4),
      // Moves elements: int8 in, int8 out is exact when every input has the output's scale.
      .quant = SharesInputScale(QuantTraits::kAllInputs),
  };
  return def;
}

}  // namespace dopt
