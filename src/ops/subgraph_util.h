// Shared pieces of the ops with sub-graphs (If, Loop, Scan): the sub-graph attributes, what
// shape inference knows of a sub-graph's inputs and outputs, and the slicing and stacking of
// per-iteration tensors.
#pragma once

#include <string>
#include <vector>

#include "ops/op.h"

namespace dopt {

// The sub-graph attribute `name` of `node`; an error naming the node when it is missing.
StatusOr<const Graph*> SubgraphAttr(const Node& node, const char* name);

// What shape inference knows of a (prepared) sub-graph value.
ValueInfo InfoOfValue(const Value& v);

// The common part of two facts about one output: same dtype (else undefined), and the dims
// both agree on (others unknown; different ranks: rank unknown).
ValueInfo MergeInfos(const ValueInfo& a, const ValueInfo& b);

// The sub-graph runner of a kernel call; an error naming the node outside an executor.
StatusOr<SubgraphRunner*> RunnerOf(const KernelContext& ctx);

// Index `index` of `t` along `axis` (that axis removed): a copy.
Tensor TakeAlong(const Tensor& t, int axis, int64_t index);

// `parts` (one shape and dtype) stacked along a new axis `axis` of the result (0..rank).
// `reverse`: the last part first. Empty `parts` gives a tensor of `empty_shape`, `empty_dtype`.
StatusOr<Tensor> StackAlong(const Node& node, const std::vector<Tensor>& parts, int axis, bool reverse);

// A cond value (If's cond, Loop's cond): a one-element bool (or numeric) tensor.
StatusOr<bool> ReadCondition(const Node& node, const Tensor& t, const char* what);

}  // namespace dopt
