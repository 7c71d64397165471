// The original tool's calibration .bin files. Little-endian int32 header, then float32 data:
//   610: magic, rank, rank x dims      (header 8 + 4*rank bytes)
//   510: magic, N, C, H, W             (header 20 bytes)
#pragma once

#include <string>

#include "dopt/status.h"
#include "ir/tensor.h"

namespace dopt {

constexpr int32_t kBinMagicAnyRank = 610;
constexpr int32_t kBinMagicNCHW = 510;

struct BinHeader {
  int32_t magic = 0;
  Shape shape;
  size_t header_bytes = 0;
};

// Validates the header against the file size; `name` is used in messages.
StatusOr<BinHeader> ParseBinHeader(const std::string& bytes, const std::string& name);
StatusOr<Tensor> ParseBinFile(const std::string& bytes, const std::string& name);
StatusOr<Tensor> ReadBinFile(const std::string& path);
std::string SerializeBinFile(const Tensor& t, int32_t magic);

}  // namespace dopt
