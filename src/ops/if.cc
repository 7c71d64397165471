// If: runs then_branch or else_branch on a one-element bool cond. The branches take no inputs
// and read the enclosing graphs' values by name (outer scope); their outputs are the node's.
// Branch outputs may differ in shape (the shape rule keeps what both agree on); sequence and
// optional outputs (If-13/16) are not supported. Runs only in the executor (not folded).
#include "ops/subgraph_util.h"

namespace dopt {
namespace {

Status CheckBranch(const Node& node, const Graph& branch, const char* name, int num_outputs) {
  if (!branch.inputs.empty()) {
    return InvalidArgument(node.Describe() + ": " + name + " takes " + std::to_string(branch.inputs.size()) +
                           " inputs; an If branch takes none");
  }
  if ((int)branch.outputs.size() != num_outputs) {
    return InvalidArgument(node.Describe() + ": " + name + " has " + std::to_string(branch.outputs.size()) +
                           " outputs, the node has " + std::to_string(num_outputs));
  }
  return Status::Ok();
}

Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  const ValueInfo& cond = ctx.input(0);
  if (cond.dtype != DType::kUndefined && cond.dtype != DType::kBool)
    return InvalidArgument(node.Describe() + ": cond must be bool, got " + DTypeName(cond.dtype));
  if (cond.ShapeKnown() && NumElements(cond.shape) != 1)
    return InvalidArgument(node.Describe() + ": cond must hold one element, got shape " + ShapeToString(cond.shape));
  DOPT_ASSIGN_OR_RETURN(const Graph* then_g, SubgraphAttr(node, "then_branch"));
  DOPT_ASSIGN_OR_RETURN(const Graph* else_g, SubgraphAttr(node, "else_branch"));
  DOPT_RETURN_IF_ERROR(CheckBranch(node, *then_g, "then_branch", ctx.num_outputs()));
  DOPT_RETURN_IF_ERROR(CheckBranch(node, *else_g, "else_branch", ctx.num_outputs()));
  int known = -1;  // a constant cond picks the branch
  if (cond.value && cond.value->numel() == 1) known = cond.value->ToInt64Vector()[0] != 0;
  for (int o = 0; o < ctx.num_outputs(); ++o) {
    ValueInfo t = InfoOfValue(then_g->value(then_g->outputs[o]));
    ValueInfo e = InfoOfValue(else_g->value(else_g->outputs[o]));
    if (t.dtype != DType::kUndefined && e.dtype != DType::kUndefined && t.dtype != e.dtype) {
      return InvalidArgument(node.Describe() + ": output " + std::to_string(o) + " is " + DTypeName(t.dtype) +
                             " in then_branch but " + DTypeName(e.dtype) + " in else_branch");
    }
    ValueInfo m = known == 1 ? t : known == 0 ? e : MergeInfos(t, e);
    if (m.dtype == DType::kUndefined) m.dtype = t.dtype != DType::kUndefined ? t.dtype : e.dtype;
    if (m.rank_known) ctx.SetOutput(o, m.dtype, m.shape);
    else ctx.SetOutputUnknownRank(o, m.dtype);
  }
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  DOPT_ASSIGN_OR_RETURN(bool cond, ReadCondition(node, ctx.input(0), "cond"));
  const char* which = cond ? "then_branch" : "else_branch";
  DOPT_ASSIGN_OR_RETURN(const Graph* branch, SubgraphAttr(node, which));
  DOPT_RETURN_IF_ERROR(CheckBranch(node, *branch, which, ctx.num_outputs()));
  DOPT_ASSIGN_OR_RETURN(SubgraphRunner * runner, RunnerOf(ctx));
  auto outs = runner->Run(*branch, {});
  if (!outs.ok()) return outs.status().WithContext(which);
  for (int o = 0; o < ctx.num_outputs(); ++o) ctx.SetOutput(o, std::move((*outs)[o]));
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_If() {
  static const OpDef def{
      .name = "If",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1 << 16,
      .infer = Infer,
      .run = Run,
      .foldable = false,  // the branches run in the executor, which constant folding has not
      .upgrade = NoUpgradeNeeded("11: branch outputs may differ in shape; 13: sequences; 16: optionals; "
                                 "19, 21: types (float8, int4); the branches' own nodes are upgraded with the graph").Since(1),
      .quant = NoQuantRole(),  // its branches stay float
  };
  return def;
}

}  // namespace dopt
