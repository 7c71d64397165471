// Execution-only rewrite: keeps 4-D float activations channels-last ([N, H, W, C]) through runs
// of nodes that can compute on them (OpDef::channels_last: the convolutions oneDNN runs on
// NHWC, the pools, Concat, element-wise ops), so consecutive convolutions hand NHWC data to each
// other instead of reordering around every one (kernels/conv_onednn.h). A region starts at a
// Conv (an anchor: its channels-first input is transposed once); other nodes join where all of
// their activation inputs are already channels-last. Where a channels-first reader or a graph
// output (or an If/Loop body) needs a region's value, one Transpose back gives it under its old
// id. A region is kept only with at least two anchors and more anchors than the transposes it
// needs (else they would cost what it saves: ConvNeXt's blocks, which transpose for LayerNorm).
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
  // `layout_free`: graph outputs (while the pass runs) whose reader takes either layout, such
  // as values an observer only takes statistics of: a region keeps them channels-last, with no
  // Transpose back, and stand_ins() maps each one's channels-last copy to it (the value itself is
  // then never computed, and stops being a graph output).
  explicit ChannelsLastPass(std::vector<int> layout_free = {}) : layout_free_(std::move(layout_free)) {}
  const char* name() const override { return "channels_last"; }
  StatusOr<int> Run(Graph& graph) override;
  // After Run: channels-last id -> the layout-free value it stands for (never computed itself).
  const std::map<int, int>& stand_ins() const { return stand_ins_; }

 private:
  std::vector<int> layout_free_;
  std::map<int, int> stand_ins_;
};

// Whether the executor runs the pass (DOPT_CHANNELS_LAST is not "0"; read once).
bool ChannelsLastEnabled();

}  // namespace dopt
