// Scatter (opset 9-10, deprecated at 11): ScatterElements under its old name, with the same
// inputs (data, indices, updates) and `axis` and no `reduction`; it runs ScatterElements' shape
// rule and kernel. The opset upgrade renames it to ScatterElements.
#include "ops/op_upgrade.h"
#include "ops/op_util.h"

namespace dopt {

const OpDef& OpDef_ScatterElements();

namespace {

Status Infer(InferContext& ctx) {
  if (ctx.node().HasAttr("reduction")) {
    return InvalidArgument(ctx.node().Describe() + ": Scatter has no 'reduction' attribute (ScatterElements does)");
  }
  return OpDef_ScatterElements().infer(ctx);
}

Status Run(KernelContext& ctx) { return OpDef_ScatterElements().run(ctx); }

// Opset upgrade: at 11 Scatter became ScatterElements (same inputs and axis).
Status Upgrade(Graph& g, int ni, int from, int to) {
  if (!OpsetCrosses(from, to, 11)) return Status::Ok();
  Node& n = g.nodes[ni];
  n.op_type = "ScatterElements";
  n.op = nullptr;
  n.dirty = true;
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_Scatter() {
  static const OpDef def{
      .name = "Scatter",
      .min_inputs = 3,
      .max_inputs = 3,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = UpgradeBy(Upgrade),
      .quant = NoQuantRole(),  // data and updates would need one scale
  };
  return def;
}

}  // namespace dopt
