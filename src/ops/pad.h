// What passes may ask of a Pad node (ops/pad.cc).
#pragma once

#include <cstdint>
#include <vector>

#include "ir/graph.h"

namespace dopt {

// Whether `pad` (input of rank `rank`) is a constant-mode Pad with fill 0 whose pads (input or
// attribute, with optional axes) are model constants and non-negative; fills the full-rank pads
// [begin_0.., end_0..].
bool ConstantZeroPads(const Graph& g, const Node& pad, int rank, std::vector<int64_t>* full);

}  // namespace dopt
