// The original tool's calibration .bin files. Little-endian int32 header, then float32 data:
//   610: magic, rank, rank x dims      (header 8 + 4*rank bytes)
//   510: magic, N, C, H, W             (header 20 bytes)
#pragma once

#include <cstdio>
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
// Same, from the first bytes of a file (at least the header; more is fine) and its total size.
StatusOr<BinHeader> ParseBinHeaderPrefix(const std::string& prefix, uint64_t file_size, const std::string& name);
// Reads only the header of the file at `path` (the data stays on disk) and validates it
// against the file's size.
StatusOr<BinHeader> ReadBinHeader(const std::string& path);
StatusOr<Tensor> ParseBinFile(const std::string& bytes, const std::string& name);
StatusOr<Tensor> ReadBinFile(const std::string& path);
std::string SerializeBinFile(const Tensor& t, int32_t magic);

// Writes a .bin sample by sample, without holding the data: a temp file next to `path` that
// Finish() completes (header with the final sample count) and renames over `path`. Without a
// successful Finish() the temp file is removed and `path` is untouched.
class BinWriter {
 public:
  BinWriter() = default;
  BinWriter(const BinWriter&) = delete;
  BinWriter& operator=(const BinWriter&) = delete;
  ~BinWriter();
  // `sample_shape`: one sample's dims (510: exactly C,H,W).
  Status Open(const std::string& path, int32_t magic, const Shape& sample_shape);
  Status Append(const float* data, int64_t num_samples);
  Status Finish();
  int64_t num_samples() const { return count_; }

 private:
  Status WriteHeader();
  std::string path_, tmp_;
  int32_t magic_ = 0;
  Shape sample_shape_;
  int64_t count_ = 0;
  std::FILE* f_ = nullptr;
};

}  // namespace dopt
