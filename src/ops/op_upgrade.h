// What the opset upgrade rules of several op files share (OpDef::upgrade, ops/op.h): version
// checks, input checks, and the rewrites that several ops need (an `axes` attribute that
// became an input; Resize-10 -> 11, which Upsample reaches too). New values and nodes are made
// with ir/graph_edit.h.
#pragma once

#include <string>
#include <vector>

#include "dopt/status.h"
#include "ir/graph.h"

namespace dopt {

// from < v <= to: a node upgraded from `from` to `to` crosses version v of its op.
inline bool OpsetCrosses(int from, int to, int v) { return from < v && to >= v; }

// An error naming the node unless it has at least `count` inputs and input 0 is present.
Status NeedUpgradeInputs(const Node& n, size_t count);

// Sets input i (growing the list with omitted inputs) and drops trailing omitted ones.
void SetUpgradeInput(Node& n, size_t i, int id);
void TrimTrailingOmitted(std::vector<int>& ids);

// A new rank-0 initializer of `dtype` (a float type; else an error naming the node and its
// input 0, since the value types the rule's new input) holding `v`, named after `base`.
StatusOr<int> AddFloatScalarInitializer(Graph& g, const Node& n, const std::string& base, float v, DType dtype);

// The `axes` attribute -> input 1 (int64, named <node>_axes), at opset `version` of the op:
// Squeeze/Unsqueeze 13, ReduceSum 13, ReduceMean/ReduceMax 18.
enum class AxesWhenAbsent {
  kRequired,   // no attribute: an error (Unsqueeze)
  kKeep,       // no attribute: left without input (Squeeze: every size-1 dim)
  kReduceAll,  // no attribute or an empty list: no input (Reduce*: every axis, since the new
               // noop_with_empty_axes defaults to 0)
};
Status UpgradeAxesAttrToInput(Graph& g, int ni, int from, int to, int version, AxesWhenAbsent absent);

// Resize-10 (X, scales) -> Resize-11+ (X, roi, scales), exactly (resize.cc). `upsample_only`:
// the node was an Upsample, whose scales are all >= 1.
Status UpgradeResize10To11(Graph& g, int ni, int to, bool upsample_only);

}  // namespace dopt
