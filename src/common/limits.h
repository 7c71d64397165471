// dopt's limits on hostile or broken input, in one place (docs/reliability.md). Every reader
// checks its input against these before allocating or recursing, and fails with a message
// naming the limit.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dopt {

// Elements in one tensor (declared shapes, .bin headers, initializers): 2^34 (64 GiB as float32).
inline constexpr int64_t kMaxTensorElements = int64_t{1} << 34;
// Bytes read whole into memory from one model or data file (ReadFileToString's default).
inline constexpr size_t kMaxFileBytes = size_t{1} << 34;
// Bytes of a config.prototxt.
inline constexpr size_t kMaxConfigBytes = size_t{1} << 24;
// Bytes of a compress_conf file or one image.
inline constexpr size_t kMaxSmallFileBytes = size_t{1} << 31;
// Dims of a .bin tensor (the original tool's limit).
inline constexpr int kMaxBinRank = 8;
// Nesting of subgraphs (If/Loop/Scan attributes) in a model.
inline constexpr int kMaxGraphNesting = 32;
// Iterations one Loop node runs (a trip count M or a cond that never turns false beyond it is
// an error naming the node, not a hang).
inline constexpr int64_t kMaxLoopIterations = int64_t{1} << 24;
// Protobuf message nesting accepted when parsing a model: each subgraph level is three
// messages (GraphProto > NodeProto > AttributeProto), plus the tensor/type messages below it.
// Deeper input fails to parse without recursing further; the loader then names the depth.
inline constexpr int kMaxProtoRecursion = 3 * kMaxGraphNesting + 16;

}  // namespace dopt
