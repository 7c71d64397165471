#include "data/bin_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <fstream>

#include "common/file_util.h"
#include "common/limits.h"
#include "common/signal_cleanup.h"

namespace dopt {

namespace {
int32_t ReadI32(const std::string& b, size_t off) {
  int32_t v;
  std::memcpy(&v, b.data() + off, 4);
  return v;  // the hosts we build for are little-endian
}
void AppendI32(std::string* s, int32_t v) { s->append(reinterpret_cast<const char*>(&v), 4); }
}  // namespace

StatusOr<BinHeader> ParseBinHeader(const std::string& bytes, const std::string& name) {
  return ParseBinHeaderPrefix(bytes, bytes.size(), name);
}

StatusOr<BinHeader> ParseBinHeaderPrefix(const std::string& bytes, uint64_t file_size, const std::string& name) {
  auto bad = [&](const std::string& why) { return InvalidArgument(name + ": " + why); };
  if (file_size < 8 || bytes.size() < 8) {
    return bad("file has " + std::to_string(file_size) + " bytes, too short for a .bin header (at least 8)");
  }
  BinHeader h;
  h.magic = ReadI32(bytes, 0);
  if (h.magic == kBinMagicAnyRank) {
    int32_t rank = ReadI32(bytes, 4);
    if (rank < 1 || rank > kMaxBinRank) {
      return bad("610 header gives rank " + std::to_string(rank) + ", expected 1 to " + std::to_string(kMaxBinRank));
    }
    h.header_bytes = 8 + 4 * (size_t)rank;
    if (file_size < h.header_bytes || bytes.size() < h.header_bytes) {
      return bad("file has " + std::to_string(file_size) + " bytes, the 610 header of rank " + std::to_string(rank) +
                 " alone needs " + std::to_string(h.header_bytes));
    }
    for (int i = 0; i < rank; ++i) h.shape.push_back(ReadI32(bytes, 8 + 4 * (size_t)i));
  } else if (h.magic == kBinMagicNCHW) {
    h.header_bytes = 20;
    if (file_size < 20 || bytes.size() < 20) {
      return bad("file has " + std::to_string(file_size) + " bytes, the 510 header alone needs 20");
    }
    for (int i = 0; i < 4; ++i) h.shape.push_back(ReadI32(bytes, 4 + 4 * (size_t)i));
  } else {
    return bad("bad magic number " + std::to_string(h.magic) + ", expected 610 or 510");
  }
  for (size_t i = 0; i < h.shape.size(); ++i) {
    if (h.shape[i] <= 0) {
      return bad("dim " + std::to_string(i) + " of the header is " + std::to_string(h.shape[i]) + ", dims must be positive");
    }
  }
  auto n = CheckedNumElements(h.shape, kMaxTensorElements);
  if (!n.ok()) return bad("header shape " + ShapeToString(h.shape) + " is too large");
  size_t expected = h.header_bytes + 4 * (size_t)*n;
  if (file_size != expected) {
    return bad("file has " + std::to_string(file_size) + " bytes, header shape " + ShapeToString(h.shape) +
               " needs exactly " + std::to_string(expected) + " (" + std::to_string(h.header_bytes) + " header + 4 x " +
               std::to_string(*n) + " float32)");
  }
  return h;
}

StatusOr<BinHeader> ReadBinHeader(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return NotFound(path + ": " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return InvalidArgument(path + ": is a directory, expected a .bin file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError(path + ": cannot open for reading: " + std::strerror(errno));
  std::string prefix(8 + 4 * kMaxBinRank, '\0');
  in.read(&prefix[0], (std::streamsize)prefix.size());
  prefix.resize((size_t)in.gcount());
  return ParseBinHeaderPrefix(prefix, (uint64_t)st.st_size, path);
}

StatusOr<Tensor> ParseBinFile(const std::string& bytes, const std::string& name) {
  DOPT_ASSIGN_OR_RETURN(BinHeader h, ParseBinHeader(bytes, name));
  Tensor t(DType::kFloat32, h.shape);
  std::memcpy(t.raw(), bytes.data() + h.header_bytes, t.nbytes());
  return t;
}

StatusOr<Tensor> ReadBinFile(const std::string& path) {
  DOPT_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  return ParseBinFile(bytes, path);
}

std::string SerializeBinFile(const Tensor& t0, int32_t magic) {
  Tensor t = t0.dtype() == DType::kFloat32 ? t0 : t0.CastTo(DType::kFloat32);
  std::string out;
  AppendI32(&out, magic);
  if (magic == kBinMagicAnyRank) AppendI32(&out, t.rank());
  for (int64_t d : t.shape()) AppendI32(&out, (int32_t)d);
  out.append(static_cast<const char*>(t.raw()), t.nbytes());
  return out;
}

BinWriter::~BinWriter() {
  if (f_) {
    std::fclose(f_);
    std::remove(tmp_.c_str());
  }
  if (!tmp_.empty()) UnregisterTempFile(tmp_);
}

Status BinWriter::Open(const std::string& path, int32_t magic, const Shape& sample_shape) {
  if (magic != kBinMagicAnyRank && magic != kBinMagicNCHW) {
    return InvalidArgument("--magic " + std::to_string(magic) + " is not 610 or 510");
  }
  if (magic == kBinMagicNCHW && sample_shape.size() != 3) {
    return InvalidArgument(path + ": a 510 file holds N,C,H,W data, the samples have shape " + ShapeToString(sample_shape) +
                           "; use magic 610 for other ranks");
  }
  if (sample_shape.size() + 1 > 8) return InvalidArgument(path + ": rank " + std::to_string(sample_shape.size() + 1) + " is above 8");
  path_ = path;
  magic_ = magic;
  sample_shape_ = sample_shape;
  tmp_ = path + ".dopt-tmp-" + std::to_string(getpid());
  RegisterTempFile(tmp_);  // removed on SIGINT/SIGTERM/SIGHUP until Finish or the destructor
  f_ = std::fopen(tmp_.c_str(), "wb");
  if (!f_) return IoError(path + ": cannot create output file: " + std::strerror(errno));
  return WriteHeader();
}

Status BinWriter::WriteHeader() {
  std::string h;
  AppendI32(&h, magic_);
  if (magic_ == kBinMagicAnyRank) AppendI32(&h, (int32_t)sample_shape_.size() + 1);
  AppendI32(&h, (int32_t)count_);
  for (int64_t d : sample_shape_) AppendI32(&h, (int32_t)d);
  if (std::fwrite(h.data(), 1, h.size(), f_) != h.size()) return IoError(path_ + ": write failed (disk full?)");
  return Status::Ok();
}

Status BinWriter::Append(const float* data, int64_t num_samples) {
  if (!f_) return Internal("BinWriter::Append before Open");
  size_t n = (size_t)(NumElements(sample_shape_) * num_samples);
  if (n && std::fwrite(data, sizeof(float), n, f_) != n) return IoError(path_ + ": write failed (disk full?)");
  count_ += num_samples;
  if (count_ > INT32_MAX) return InvalidArgument(path_ + ": more than 2^31-1 samples");
  return Status::Ok();
}

Status BinWriter::Finish() {
  if (!f_) return Internal("BinWriter::Finish before Open");
  if (count_ == 0) return InvalidArgument(path_ + ": no samples to write");
  bool ok = std::fseek(f_, 0, SEEK_SET) == 0;
  if (ok) {
    Status st = WriteHeader();
    ok = st.ok();
  }
  ok = std::fflush(f_) == 0 && ok;
  ok = std::fclose(f_) == 0 && ok;
  f_ = nullptr;
  if (!ok) {
    std::remove(tmp_.c_str());
    return IoError(path_ + ": write failed (disk full?)");
  }
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    int e = errno;
    std::remove(tmp_.c_str());
    return IoError(path_ + ": cannot rename temp file into place: " + std::strerror(e));
  }
  return Status::Ok();
}

}  // namespace dopt
