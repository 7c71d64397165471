// Execution-only rewrite: a zero Pad in front of a Conv becomes the Conv's own padding, as
// ONNX Runtime's PadFusion does. Exporters of TF-style "same" padding (transformers'
// MobileNet and EfficientNet ports, tf2onnx) put an explicit Pad before every conv, often an
// all-zero one before 1x1 convs: each costs a copy of the activation, and it splits the
// channels-last regions (passes/channels_last.h) that the convs would otherwise share.
//
// A Pad folds when its mode is "constant", its fill value is absent or 0, its pads (input or
// attribute, with optional axes) are known constants, non-negative, and zero on the first two
// (batch and channel) dims, and every reader is a Conv (auto_pad NOTSET or VALID) reading it as
// its data input; an all-zero Pad of any reader is dropped. The Pad's output must not be a
// graph output (the executor makes observed values outputs while passes run).
//
// Exact in value (the padded positions add 0 * w), but a conv with other pads may take another
// kernel path, so the executor runs it only when bits may change (ExecutorOptions::optimize
// without exact_only).
#pragma once

#include "passes/pass.h"

namespace dopt {

class FoldPadPass : public Pass {
 public:
  const char* name() const override { return "fold_pad"; }
  StatusOr<int> Run(Graph& graph) override;
};

}  // namespace dopt
