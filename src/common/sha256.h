// SHA-256 (FIPS 180-4), for fingerprinting source models in quantization outputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace dopt {

class Sha256 {
 public:
  Sha256();
  void Update(const void* data, size_t n);
  // The 32-byte digest as 64 lower-case hex characters. Call once.
  std::string HexDigest();

 private:
  void Block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

// Hex SHA-256 of a byte string.
std::string Sha256Hex(const std::string& bytes);

}  // namespace dopt
