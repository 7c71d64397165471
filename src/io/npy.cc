#include "io/npy.h"

#include <cstring>

#include "common/file_util.h"

namespace dopt {

namespace {

const char* NpyDescr(DType t) {
  switch (t) {
    case DType::kFloat32: return "<f4";
    case DType::kFloat16: return "<f2";
    case DType::kInt8: return "|i1";
    case DType::kUInt8: return "|u1";
    case DType::kInt16: return "<i2";
    case DType::kInt32: return "<i4";
    case DType::kInt64: return "<i8";
    case DType::kBool: return "|b1";
    default: return nullptr;
  }
}

StatusOr<DType> DTypeFromDescr(const std::string& d) {
  static const struct { const char* s; DType t; } table[] = {
      {"<f4", DType::kFloat32}, {"<f2", DType::kFloat16}, {"|i1", DType::kInt8}, {"|u1", DType::kUInt8},
      {"<i2", DType::kInt16},   {"<i4", DType::kInt32},   {"<i8", DType::kInt64}, {"|b1", DType::kBool},
      {"<u1", DType::kUInt8},   {"<i1", DType::kInt8}};
  for (const auto& e : table)
    if (d == e.s) return e.t;
  if (d == "<f8") return DType::kUndefined;  // converted to float32 by the caller
  return InvalidArgument("unsupported .npy dtype '" + d + "' (use float32, float16, int8/16/32/64, uint8 or bool)");
}

// Finds 'key': value in the header dict; returns the raw value text.
bool FindKey(const std::string& h, const std::string& key, std::string* value) {
  size_t p = h.find("'" + key + "'");
  if (p == std::string::npos) return false;
  p = h.find(':', p);
  if (p == std::string::npos) return false;
  ++p;
  while (p < h.size() && h[p] == ' ') ++p;
  size_t e = p;
  if (h[p] == '(') e = h.find(')', p) + 1;
  else if (h[p] == '\'') e = h.find('\'', p + 1) + 1;
  else while (e < h.size() && h[e] != ',' && h[e] != '}') ++e;
  if (e == std::string::npos || e == 0) return false;
  *value = h.substr(p, e - p);
  return true;
}

}  // namespace

StatusOr<Tensor> ParseNpy(const std::string& bytes, const std::string& name) {
  auto bad = [&](const std::string& why) { return InvalidArgument(name + ": not a valid .npy file: " + why); };
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0) return bad("missing the \\x93NUMPY magic");
  int major = (unsigned char)bytes[6];
  size_t header_len, offset;
  if (major == 1) {
    header_len = (unsigned char)bytes[8] | ((size_t)(unsigned char)bytes[9] << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return bad("truncated header");
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= (size_t)(unsigned char)bytes[8 + i] << (8 * i);
    offset = 12;
  } else {
    return bad("unknown format version " + std::to_string(major));
  }
  if (offset + header_len > bytes.size()) return bad("truncated header");
  std::string h = bytes.substr(offset, header_len);
  std::string descr, fortran, shape_s;
  if (!FindKey(h, "descr", &descr) || !FindKey(h, "fortran_order", &fortran) || !FindKey(h, "shape", &shape_s))
    return bad("header lacks descr, fortran_order or shape");
  if (fortran.find("True") != std::string::npos) return bad("Fortran-ordered arrays are not supported (save with np.ascontiguousarray)");
  descr = descr.substr(1, descr.size() - 2);
  auto dt = DTypeFromDescr(descr);
  if (!dt.ok()) return dt.status().WithContext(name);
  Shape shape;
  std::string num;
  for (char c : shape_s) {
    if (c >= '0' && c <= '9') num += c;
    else if (!num.empty()) {
      shape.push_back(std::stoll(num));
      num.clear();
    }
  }
  auto n = CheckedNumElements(shape);
  if (!n.ok()) return n.status().WithContext(name);
  bool is_f64 = *dt == DType::kUndefined;
  size_t esize = is_f64 ? 8 : DTypeSize(*dt);
  size_t data_off = offset + header_len;
  size_t need = (size_t)*n * esize;
  if (bytes.size() - data_off != need)
    return bad("data has " + std::to_string(bytes.size() - data_off) + " bytes, shape " + ShapeToString(shape) + " needs " + std::to_string(need));
  if (is_f64) {
    Tensor t(DType::kFloat32, shape);
    const char* src = bytes.data() + data_off;
    for (int64_t i = 0; i < *n; ++i) {
      double d;
      std::memcpy(&d, src + 8 * i, 8);
      t.data<float>()[i] = (float)d;
    }
    return t;
  }
  Tensor t(*dt, shape);
  if (need) std::memcpy(t.raw(), bytes.data() + data_off, need);
  return t;
}

StatusOr<Tensor> ReadNpy(const std::string& path) {
  auto bytes = ReadFileToString(path);
  if (!bytes.ok()) return bytes.status();
  return ParseNpy(*bytes, path);
}

std::string SerializeNpy(const Tensor& t0) {
  Tensor t = NpyDescr(t0.dtype()) ? t0 : t0.CastTo(DType::kFloat32);
  std::string shape = "(";
  for (size_t i = 0; i < t.shape().size(); ++i) shape += std::to_string(t.shape()[i]) + (t.shape().size() == 1 ? "," : i + 1 < t.shape().size() ? ", " : "");
  shape += ")";
  std::string header = std::string("{'descr': '") + NpyDescr(t.dtype()) + "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + header.size() + 1;
  size_t pad = (64 - total % 64) % 64;
  header += std::string(pad, ' ') + "\n";
  std::string out = "\x93NUMPY";
  out += (char)1;
  out += (char)0;
  out += (char)(header.size() & 0xff);
  out += (char)((header.size() >> 8) & 0xff);
  out += header;
  out.append(static_cast<const char*>(t.raw()), t.nbytes());
  return out;
}

Status WriteNpy(const std::string& path, const Tensor& t) { return WriteFileAtomic(path, SerializeNpy(t)); }

}  // namespace dopt
