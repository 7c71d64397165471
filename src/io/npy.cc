#include "io/npy.h"

#include <cstdint>
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
  if (d == "<f8" || d == "<u2" || d == "<u4" || d == "<u8") return DType::kUndefined;  // widened by the caller
  return InvalidArgument("unsupported .npy dtype '" + d +
                         "' (use a little-endian float16/32/64, int8/16/32/64, uint8/16/32/64 or bool array)");
}

// Finds 'key': value in the header dict; returns the raw value text (a quoted string, a
// parenthesised tuple, or a bare word up to the next ',' or '}').
bool FindKey(const std::string& h, const std::string& key, std::string* value) {
  size_t p = h.find("'" + key + "'");
  if (p == std::string::npos) return false;
  p = h.find(':', p);
  if (p == std::string::npos) return false;
  ++p;
  while (p < h.size() && h[p] == ' ') ++p;
  if (p >= h.size()) return false;
  size_t e = p;
  if (h[p] == '(' || h[p] == '\'') {
    e = h.find(h[p] == '(' ? ')' : '\'', p + 1);
    if (e == std::string::npos) return false;
    ++e;
  } else {
    while (e < h.size() && h[e] != ',' && h[e] != '}') ++e;
    while (e > p && h[e - 1] == ' ') --e;
  }
  *value = h.substr(p, e - p);
  return true;
}

// The shape tuple as NumPy writes it: "()", "(3,)", "(2, 3)" (Python 2's "3L" accepted).
// Each dim at most 2^40, so sizes computed from it cannot overflow.
StatusOr<Shape> ParseShapeTuple(const std::string& s) {
  if (s.size() < 2 || s.front() != '(' || s.back() != ')') return InvalidArgument("shape " + s + " is not a tuple");
  Shape shape;
  std::string inner = s.substr(1, s.size() - 2);
  size_t start = 0;
  while (start <= inner.size()) {
    size_t comma = inner.find(',', start);
    std::string item = inner.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t b = item.find_first_not_of(' '), e = item.find_last_not_of(' ');
    item = b == std::string::npos ? "" : item.substr(b, e - b + 1);
    if (!item.empty() && item.back() == 'L') item.pop_back();
    bool last = comma == std::string::npos;
    if (item.empty()) {
      // Only "()" and a trailing comma ("(3,)") leave an empty item.
      if (last && (shape.size() > 0 || inner.find_first_not_of(' ') == std::string::npos)) break;
      return InvalidArgument("shape " + s + " has an empty dim");
    }
    if (item.size() > 13 || item.find_first_not_of("0123456789") != std::string::npos)
      return InvalidArgument("shape " + s + ": dim '" + item + "' is not an integer in [0, 2^40]");
    int64_t d = std::stoll(item);
    if (d > (int64_t{1} << 40)) return InvalidArgument("shape " + s + ": dim " + item + " is larger than 2^40");
    shape.push_back(d);
    if (last) break;
    start = comma + 1;
  }
  return shape;
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
  if (fortran == "True") return bad("Fortran-ordered arrays are not supported (save with np.ascontiguousarray)");
  if (fortran != "False") return bad("fortran_order is '" + fortran + "', not True or False");
  if (descr.size() < 2 || descr.front() != '\'' || descr.back() != '\'') return bad("descr is not a quoted dtype string: " + descr);
  descr = descr.substr(1, descr.size() - 2);
  auto dt = DTypeFromDescr(descr);
  if (!dt.ok()) return dt.status().WithContext(name);
  auto parsed_shape = ParseShapeTuple(shape_s);
  if (!parsed_shape.ok()) return bad(parsed_shape.status().message());
  Shape shape = std::move(*parsed_shape);
  auto n = CheckedNumElements(shape);
  if (!n.ok()) return n.status().WithContext(name);
  // float64 becomes float32; uint16 int32, uint32 and uint64 int64 (exact; a uint64 above
  // int64's range is an error): dopt's tensors have no float64 or unsigned types above 8 bits.
  bool widened = *dt == DType::kUndefined;
  bool is_f64 = descr == "<f8";
  size_t esize = !widened ? DTypeSize(*dt) : descr == "<u2" ? 2 : descr == "<u4" ? 4 : 8;
  size_t data_off = offset + header_len;
  size_t need = (size_t)*n * esize;
  if (bytes.size() - data_off != need)
    return bad("data has " + std::to_string(bytes.size() - data_off) + " bytes, shape " + ShapeToString(shape) + " needs " + std::to_string(need));
  if (widened && !is_f64) {
    Tensor t(descr == "<u2" ? DType::kInt32 : DType::kInt64, shape);
    const char* src = bytes.data() + data_off;
    for (int64_t i = 0; i < *n; ++i) {
      uint64_t v = 0;
      std::memcpy(&v, src + esize * i, esize);  // little-endian host (x86-64)
      if (descr == "<u2") {
        t.data<int32_t>()[i] = (int32_t)v;
      } else {
        if (v > (uint64_t)INT64_MAX) return bad("uint64 value " + std::to_string(v) + " is above int64's range");
        t.data<int64_t>()[i] = (int64_t)v;
      }
    }
    return t;
  }
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
