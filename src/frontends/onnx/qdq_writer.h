// Materialises a QuantPlan in a float graph as QuantizeLinear/DequantizeLinear pairs (QDQ):
// activation inputs of quantized ops get Q -> DQ (one pair per tensor, shared by its
// consumers); weights become int8 initializers behind DequantizeLinear (per channel along
// TensorQuant::axis); biases become int32 initializers behind DequantizeLinear. Ops that are
// not in the plan keep float inputs. Used both to export the quantized ONNX model and to
// simulate the int8 model in dopt's own executor.
#pragma once

#include "dopt/status.h"
#include "ir/graph.h"
#include "quant/export.h"
#include "quant/quant_plan.h"

namespace dopt {

struct QdqOptions {
  // Refuse plans the model's ONNX opset cannot express (per-channel needs opset 13, 16-bit
  // activations opset 21). The int8 simulation turns this off: dopt's executor runs
  // QuantizeLinear/DequantizeLinear of any form whatever the model's opset.
  bool check_opset = true;
};

Status InsertQDQ(Graph& graph, const QuantPlan& plan);
Status InsertQDQ(Graph& graph, const QuantPlan& plan, const QdqOptions& options);

// The ONNX writer of a quantized model: QDQ at opset 13 (upgrading older models), or 21 for
// 16-bit activations, serialized as an ONNX ModelProto.
StatusOr<ExportedModel> ExportOnnxQdq(Graph& graph, const QuantPlan& plan, const ExportOptions& options);

}  // namespace dopt
