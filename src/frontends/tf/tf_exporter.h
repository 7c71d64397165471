// The TensorFlow exporter: the original frozen GraphDef (re-parsed from the bytes the frontend
// kept) with dopt's quantisation written into it. Activation inputs of quantized ops go through
// FakeQuantWithMinMaxVars (one per tensor, shared by its consumers); weights become int8
// constants times per-channel scales (Const int8 -> Cast -> Mul); folded BatchNorm/bias/scale
// chains after a quantized op keep their node names (BiasAdd with the folded bias, or Identity).
// Every other node is kept as it was (name, attrs, device, unknown fields), also the nodes the
// IR cut removed, so the output is the original graph plus quantisation. See
// docs/quantization.md ("TensorFlow output").
#pragma once

#include "quant/export.h"

namespace dopt {

StatusOr<ExportedModel> ExportTfGraphDef(Graph& graph, const QuantPlan& plan, const ExportOptions& options);

}  // namespace dopt
