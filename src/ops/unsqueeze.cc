// Unsqueeze: inserts size-1 dims at `axes` (positions in the output; attribute before
// opset 13, input 1 from 13). Shares the input buffer.
#include "ops/op_upgrade.h"
#include "ops/op_util.h"

namespace dopt {
namespace {

StatusOr<Shape> Unsqueezed(const Node& node, const Shape& in, const std::vector<int64_t>& axes) {
  const int out_rank = (int)(in.size() + axes.size());
  std::vector<bool> ins(out_rank, false);
  for (int64_t a : axes) {
    if (a < -out_rank || a >= out_rank) {
      return InvalidArgument(node.Describe() + ": axis " + std::to_string(a) + " is out of range for output rank " +
                             std::to_string(out_rank));
    }
    int ax = (int)(a < 0 ? a + out_rank : a);
    if (ins[ax]) return InvalidArgument(node.Describe() + ": axis " + std::to_string(a) + " is repeated");
    ins[ax] = true;
  }
  Shape out(out_rank);
  size_t k = 0;
  for (int i = 0; i < out_rank; ++i) out[i] = ins[i] ? 1 : in[k++];
  return out;
}

Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  const ValueInfo& x = ctx.input(0);
  std::vector<int64_t> axes;
  if (ctx.has_input(1)) {
    DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kInt64}));
    const ValueInfo& a = ctx.input(1);
    if (!a.value) {
      if (x.rank_known && a.rank_known && a.shape.size() == 1 && a.shape[0] >= 0) {
        ctx.SetOutput(0, x.dtype, Shape(x.shape.size() + a.shape[0], -1));
      } else {
        ctx.SetOutputUnknownRank(0, x.dtype);
      }
      return Status::Ok();
    }
    axes = a.value->ToInt64Vector();
  } else {
    if (!node.HasAttr("axes")) return InvalidArgument(node.Describe() + ": no axes attribute or input");
    DOPT_ASSIGN_OR_RETURN(axes, node.GetInts("axes"));
  }
  if (!x.rank_known) {
    ctx.SetOutputUnknownRank(0, x.dtype);
    return Status::Ok();
  }
  DOPT_ASSIGN_OR_RETURN(Shape out, Unsqueezed(node, x.shape, axes));
  ctx.SetOutput(0, x.dtype, out);
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  const Tensor& x = ctx.input(0);
  std::vector<int64_t> axes;
  if (ctx.has_input(1)) {
    axes = ctx.input(1).ToInt64Vector();
  } else {
    DOPT_ASSIGN_OR_RETURN(axes, node.GetInts("axes"));
  }
  DOPT_ASSIGN_OR_RETURN(Shape out, Unsqueezed(node, x.shape(), axes));
  ctx.SetOutput(0, x.Reshaped(out));
  return Status::Ok();
}

// Opset upgrade: 13 turns the required axes attribute into required input 1; 11: negative
// axes allowed; 21: types.
Status Upgrade(Graph& g, int ni, int from, int to) {
  return UpgradeAxesAttrToInput(g, ni, from, to, 13, AxesWhenAbsent::kRequired);
}

}  // namespace

const OpDef& OpDef_Unsqueeze() {
  static const OpDef def{
      .name = "Unsqueeze",
      .min_inputs = 1,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = UpgradeBy(Upgrade).Since(1),
      .quant = SharesInputScale(),  // moves elements
  };
  return def;
}

}  // namespace dopt
