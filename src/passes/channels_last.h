// Execution-only rewrite: keeps 4-D float activations channels-last ([N, H, W, C]) through runs
// of nodes that can compute on them (OpDef::channels_last: the convolutions oneDNN runs on
// NHWC, the pools, Concat, element-wise ops), so consecutive convolutions hand NHWC data to each
// other instead of reordering around every one (kernels/conv_onednn.h). A region starts at a
// Conv (an anchor: its channels-first input is transposed once); other nodes join where all of
// their activation inputs are already channels-last. Where a channels-first reader or a graph
// output needs a region's value, one Transpose back gives it under its old id. A region with
// fewer than two anchors is left channels-first (its transposes would cost what it saves).
// Element-wise constants are permuted; the nodes carry dopt.channels_last = 1 or a renumbered
// axis, never exported: the pass only runs on the executor's copy of the graph, and only
// without ExecutorOptions::exact_only (oneDNN's NHWC kernels round differently).
// DOPT_CHANNELS_LAST=0 turns it off.
#pragma once

#include <map>
#include <vector>

#include "passes/pass.h"

namespace dopt {

class ChannelsLastPass : public Pass {
 public:
  // `any_layout`: graph outputs that are outputs only to be observed, by observers that take
  // per-tensor statistics (ExecutorOptions::observe_any_layout). One that ends up in a region
  // is no longer an output nor computed channels-first (unless something else reads it so):
  // twins() maps its channels-last copy to it.
  explicit ChannelsLastPass(std::vector<int> any_layout = {}) : any_layout_(std::move(any_layout)) {}
  const char* name() const override { return "channels_last"; }
  StatusOr<int> Run(Graph& graph) override;
  // Channels-last value id -> the id of the value it is a permutation of (see above).
  const std::map<int, int>& twins() const { return twins_; }

 private:
  std::vector<int> any_layout_;
  std::map<int, int> twins_;
};

// Whether the executor runs the pass (DOPT_CHANNELS_LAST is not "0"; read once).
bool ChannelsLastEnabled();

}  // namespace dopt
