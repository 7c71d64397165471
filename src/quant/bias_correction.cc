#include "quant/bias_correction.h"

namespace dopt {

Status ApplyBiasCorrections(Graph& graph, const QuantPlan& plan) {
  for (const QuantizedOp& op : plan.ops) {
    if (op.bias_correction.empty()) continue;
    const std::string what = "bias correction of op '" + op.node + "'";
    if (!op.has_bias) return InvalidArgument(what + ": the op has no bias");
    const int id = graph.FindValue(op.bias.tensor);
    if (id < 0 || !graph.value(id).initializer) {
      return InvalidArgument(what + ": bias '" + op.bias.tensor + "' is not a constant of the graph");
    }
    Value& v = graph.value(id);
    Tensor b = v.initializer->CastTo(DType::kFloat32);
    if (b.numel() != (int64_t)op.bias_correction.size()) {
      return InvalidArgument(what + ": bias '" + op.bias.tensor + "' has " + std::to_string(b.numel()) + " values but " +
                             std::to_string(op.bias_correction.size()) + " corrections");
    }
    b = b.Clone();
    for (int64_t i = 0; i < b.numel(); ++i) b.data<float>()[i] += op.bias_correction[(size_t)i];
    v.initializer = b.CastTo(v.initializer->dtype());
    v.dirty = true;
  }
  return Status::Ok();
}

int BiasOutputAxis(int weight_rank, int output_rank) { return weight_rank >= 3 ? 1 : output_rank - 1; }

}  // namespace dopt
