#include "data/bin_file.h"

#include <cstring>

#include "common/file_util.h"

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
  auto bad = [&](const std::string& why) { return InvalidArgument(name + ": " + why); };
  if (bytes.size() < 8) {
    return bad("file has " + std::to_string(bytes.size()) + " bytes, too short for a .bin header (at least 8)");
  }
  BinHeader h;
  h.magic = ReadI32(bytes, 0);
  if (h.magic == kBinMagicAnyRank) {
    int32_t rank = ReadI32(bytes, 4);
    if (rank < 1 || rank > 8) return bad("610 header gives rank " + std::to_string(rank) + ", expected 1 to 8");
    h.header_bytes = 8 + 4 * (size_t)rank;
    if (bytes.size() < h.header_bytes) {
      return bad("file has " + std::to_string(bytes.size()) + " bytes, the 610 header of rank " + std::to_string(rank) +
                 " alone needs " + std::to_string(h.header_bytes));
    }
    for (int i = 0; i < rank; ++i) h.shape.push_back(ReadI32(bytes, 8 + 4 * (size_t)i));
  } else if (h.magic == kBinMagicNCHW) {
    h.header_bytes = 20;
    if (bytes.size() < 20) {
      return bad("file has " + std::to_string(bytes.size()) + " bytes, the 510 header alone needs 20");
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
  auto n = CheckedNumElements(h.shape, int64_t{1} << 36);
  if (!n.ok()) return bad("header shape " + ShapeToString(h.shape) + " is too large");
  size_t expected = h.header_bytes + 4 * (size_t)*n;
  if (bytes.size() != expected) {
    return bad("file has " + std::to_string(bytes.size()) + " bytes, header shape " + ShapeToString(h.shape) +
               " needs exactly " + std::to_string(expected) + " (" + std::to_string(h.header_bytes) + " header + 4 x " +
               std::to_string(*n) + " float32)");
  }
  return h;
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

}  // namespace dopt
