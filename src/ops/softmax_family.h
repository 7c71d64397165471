// What Softmax, LogSoftmax and Hardmax share: the axis semantics and the opset 13 upgrade.
// Opset >= 13 works along `axis` (default -1). Opset < 13 coerces x to 2-D at `axis` (default
// 1), [prod(dims < axis), prod(dims >= axis)], and works on each row of that view.
#pragma once

#include <cstdint>

#include "ops/op.h"

namespace dopt {

// x viewed as [outer, n, inner]; the op works on each of the outer * inner lanes of n elements
// (stride inner).
struct SoftmaxFamilyLayout {
  int64_t outer = 1, n = 1, inner = 1;
};

// Validates `axis` (by the node's opset) against `shape`'s rank; for known dims fills the layout.
StatusOr<SoftmaxFamilyLayout> GetSoftmaxFamilyLayout(const Node& node, const Shape& shape);

// Shape rule: float input, output like input 0, axis checked when the rank is known.
Status InferSoftmaxFamily(InferContext& ctx);

// Runs lane(xs, ys, n, stride) on every lane of a float x into a zeroed float y of x's shape,
// lanes split across the pool (each lane serially, so results do not depend on threads).
Status RunSoftmaxFamily(KernelContext& ctx, void (*lane)(const float* xs, float* ys, int64_t n, int64_t stride));

// The opset upgrade rule across 13: same node with an explicit axis when the dims after `axis`
// are all 1, else Flatten(axis) -> op(axis=1) -> Reshape(to Shape(x)).
Status UpgradeSoftmaxFamily(Graph& g, int ni, int from, int to);

}  // namespace dopt
