// Dropout in inference mode: y = x (sharing x's buffer); the optional `mask` output is all
// true. Opset 12+ has optional inputs `ratio` and `training_mode`; older opsets have `ratio`
// and `is_test` attributes. Training mode is supported only with ratio 0 (also an identity);
// otherwise it is an Unimplemented error ("training mode is not supported").
#include <algorithm>

#include "ir/graph_edit.h"
#include "ops/op_upgrade.h"
#include "ops/op_util.h"

namespace dopt {
namespace {

// Training mode is only supported in the case where it changes nothing: ratio == 0.
// `ratio` may be null (default 0.5, or unknown during shape inference: then no error yet).
Status CheckNotTraining(const Node& node, const Tensor* training_mode, const Tensor* ratio, bool ratio_known) {
  bool training = training_mode && training_mode->numel() > 0 && training_mode->ToDoubleVector()[0] != 0;
  DOPT_ASSIGN_OR_RETURN(int64_t is_test, node.GetInt("is_test", 1));
  if (!is_test) training = true;
  if (!training) return Status::Ok();
  if (!ratio_known) return Status::Ok();
  double r = 0.5;
  if (ratio && ratio->numel() > 0) r = ratio->ToDoubleVector()[0];
  else if (!ratio) {
    DOPT_ASSIGN_OR_RETURN(float a, node.GetFloat("ratio", 0.5f));
    r = a;
  }
  if (r != 0) return Unimplemented("training mode is not supported (only with ratio 0)");
  return Status::Ok();
}

Status Infer(InferContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  if (ctx.has_input(1)) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  if (ctx.has_input(2)) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 2, {DType::kBool}));
  const Tensor* ratio = ctx.has_input(1) ? ctx.input(1).value : nullptr;
  const bool ratio_known = !ctx.has_input(1) || ratio;
  DOPT_RETURN_IF_ERROR(CheckNotTraining(ctx.node(), ctx.has_input(2) ? ctx.input(2).value : nullptr, ratio, ratio_known)
                           .WithContext(ctx.node().Describe()));
  DOPT_RETURN_IF_ERROR(InferSameAsInput0(ctx));
  if (ctx.num_outputs() > 1) {
    const ValueInfo& x = ctx.input(0);
    if (x.rank_known) ctx.SetOutput(1, DType::kBool, x.shape);
    else ctx.SetOutputUnknownRank(1, DType::kBool);
  }
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  DOPT_RETURN_IF_ERROR(CheckNotTraining(ctx.node(), ctx.has_input(2) ? &ctx.input(2) : nullptr,
                                        ctx.has_input(1) ? &ctx.input(1) : nullptr, true));
  const Tensor& x = ctx.input(0);
  ctx.SetOutput(0, x);
  if (ctx.num_outputs() > 1 && ctx.node().outputs.size() > 1 && ctx.node().outputs[1] >= 0) {
    Tensor& mask = ctx.Output(1, DType::kBool, x.shape());
    std::fill(mask.data<uint8_t>(), mask.data<uint8_t>() + mask.numel(), uint8_t{1});
  }
  return Status::Ok();
}

// Opset upgrade: is_test (< 7) must be inference; 10: the mask output becomes bool (was T), so
// an unused mask is dropped and a used one is an error; 12: the ratio attribute becomes an
// optional input, with a training_mode input (default false: inference, what older versions
// did in inference too); 13: types.
Status Upgrade(Graph& g, int ni, int from, int to) {
  Node& n = g.nodes[ni];
  DOPT_RETURN_IF_ERROR(NeedUpgradeInputs(n, 1));
  if (n.HasAttr("is_test")) {
    DOPT_ASSIGN_OR_RETURN(int64_t is_test, n.GetInt("is_test", 1));
    if (is_test == 0) return InvalidArgument(n.Describe() + ": cannot upgrade: is_test=0 (training mode)");
    RemoveAttr(n, "is_test");
    n.dirty = true;
  }
  if (OpsetCrosses(from, to, 10) && n.outputs.size() > 1 && n.outputs[1] >= 0) {
    if (ValueUsed(g, n.outputs[1]))
      return InvalidArgument(n.Describe() + ": cannot upgrade: its mask output '" + g.value(n.outputs[1]).name +
                             "' is used, and its type changes to bool at opset 10");
    g.values[n.outputs[1]].producer = -1;
    n.outputs.resize(1);
    n.dirty = true;
  }
  if (OpsetCrosses(from, to, 12) && n.HasAttr("ratio")) {
    DOPT_ASSIGN_OR_RETURN(float ratio, n.GetFloat("ratio", 0.5f));
    int id = AddInitializer(g, n.name + "_ratio", Tensor::Scalar(ratio));
    Node& m = g.nodes[ni];
    RemoveAttr(m, "ratio");
    m.inputs.resize(1);
    SetUpgradeInput(m, 1, id);
    m.dirty = true;
  }
  return Status::Ok();
}

// Channels-last: the identity at inference, when the mask output is absent or unused.
bool ChannelsLast(const Graph& g, const Node& n, ChannelsLastPlan* plan) {
  if (n.outputs.size() > 1 && n.outputs[1] >= 0 && ValueUsed(g, n.outputs[1])) return false;
  Node data_only = n;
  data_only.outputs.resize(1);
  return ElementwiseChannelsLast(g, data_only, plan);
}

}  // namespace

const OpDef& OpDef_Dropout() {
  static const OpDef def{
      .name = "Dropout",
      .min_inputs = 1,
      .max_inputs = 3,
      .min_outputs = 1,
      .max_outputs = 2,
      .infer = Infer,
      .run = Run,
      .channels_last = ChannelsLast,
      .upgrade = UpgradeBy(Upgrade),
      .quant = SharesInputScale(),  // identity at inference: output 0 is input 0
  };
  return def;
}

}  // namespace dopt
