#include "quant/compute_quant_params.h"

#include <unordered_map>

#include "quant/quant_params.h"

namespace dopt {

Status ComputeQuantParams(const Graph& g, const QuantSelection& selection, const std::map<std::string, FloatRange>& ranges,
                          const QuantParamOptions& opt, QuantPlan* plan) {
  std::unordered_map<std::string, int> by_name;
  for (int i = 0; i < (int)g.nodes.size(); ++i) by_name.emplace(g.nodes[i].name, i);
  plan->excluded = selection.excluded;
  plan->ops.clear();
  const std::string& sat = opt.x86_saturation_safe;
  if (!sat.empty() && sat != "NONE" && sat != "FIRST_LAYER" && sat != "ALL") {
    return InvalidArgument("x86_saturation_safe \"" + sat + "\" (NONE, FIRST_LAYER or ALL expected)");
  }
  plan->x86_saturation_safe = sat.empty() ? "NONE" : sat;
  bool limited_one = false;  // FIRST_LAYER: set once the first op with constant weights is limited
  for (const QuantCandidate& c : selection.ops) {
    auto it = by_name.find(c.node);
    if (it == by_name.end()) return Internal("quantized op '" + c.node + "' is no longer in the graph");
    const Node& n = g.nodes[it->second];
    const Value& act = g.value(n.inputs[c.activation_input]);
    auto bits_it = opt.op_activation_bits.find(c.node);
    const int bits = bits_it == opt.op_activation_bits.end() ? opt.activation_bits : bits_it->second;
    const bool symmetric = opt.symmetric_activations || bits > 8;
    const std::map<std::string, FloatRange>& op_ranges =
        bits > opt.activation_bits && opt.wide_ranges ? *opt.wide_ranges : ranges;
    auto r = op_ranges.find(act.name);
    if (r == op_ranges.end()) {
      plan->excluded.push_back({c.node, c.op_type, "activation '" + act.name + "' was not observed during calibration"});
      continue;
    }
    QuantizedOp op;
    op.node = c.node;
    op.op_type = c.op_type;
    op.weight_input_index = c.weight_input;
    op.input = ActivationQuant(act.name, r->second, bits, symmetric);
    if (c.activation_only) {
      op.activation_only = true;
      op.weight_input_index = -1;
      plan->ops.push_back(std::move(op));
      continue;
    }
    const Value& w = g.value(n.inputs[c.weight_input]);
    if (c.activation_pair) {
      auto r2 = op_ranges.find(w.name);
      if (r2 == op_ranges.end()) {
        plan->excluded.push_back({c.node, c.op_type, "activation '" + w.name + "' was not observed during calibration"});
        continue;
      }
      op.weight = ActivationQuant(w.name, r2->second, bits, symmetric);
      op.weight_is_activation = true;
      plan->ops.push_back(std::move(op));
      continue;
    }
    int limit = 0;
    if (sat == "ALL" || (sat == "FIRST_LAYER" && !limited_one)) {
      limit = kX86SafeWeightLimit;
      limited_one = true;
      op.weight_limit = limit;
    }
    auto wq = WeightQuant(w.name, *w.initializer, c.weight_axis, opt.per_channel, opt.weight_bits, limit);
    if (!wq.ok()) return wq.status().WithContext(n.Describe());
    op.weight = std::move(*wq);
    if (c.weight2_input >= 0) {
      const Value& w2 = g.value(n.inputs[c.weight2_input]);
      auto w2q = WeightQuant(w2.name, *w2.initializer, c.weight2_axis, opt.per_channel, opt.weight_bits, limit);
      if (!w2q.ok()) return w2q.status().WithContext(n.Describe());
      op.has_weight2 = true;
      op.weight2 = std::move(*w2q);
      op.weight2_input_index = c.weight2_input;
    }
    if (c.bias_input >= 0) {
      const Value& b = g.value(n.inputs[c.bias_input]);
      auto bq = BiasQuant(b.name, op.input, op.weight, b.initializer->numel());
      if (!bq.ok()) return bq.status().WithContext(n.Describe());
      op.has_bias = true;
      op.bias = std::move(*bq);
    }
    plan->ops.push_back(std::move(op));
  }
  return Status::Ok();
}

}  // namespace dopt
