#include "data/flag_parsing.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <set>

namespace dopt {

std::string NormalizeFullWidthPunct(const std::string& s) {
  static const std::pair<const char*, const char*> kMap[] = {
      {"\xEF\xBC\x8C", ","},   // ，
      {"\xEF\xBC\x9B", ";"},   // ；
      {"\xEF\xBC\x9A", ":"},   // ：
      {"\xE3\x80\x80", " "},   // ideographic space
      {"\xE3\x80\x81", ","},   // 、
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    bool hit = false;
    for (const auto& m : kMap) {
      if (s.compare(i, 3, m.first) == 0) {
        out += m.second;
        i += 3;
        hit = true;
        break;
      }
    }
    if (!hit) out += s[i++];
  }
  return out;
}

std::string TrimSpaces(const std::string& s) {
  size_t b = 0, e = s.size();
  auto sp = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (b < e && sp(s[b])) ++b;
  while (e > b && sp(s[e - 1])) --e;
  return s.substr(b, e - b);
}

namespace {
std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t i = 0;
  while (true) {
    size_t j = s.find(sep, i);
    out.push_back(s.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return out;
}
}  // namespace

StatusOr<std::vector<InputShapeEntry>> ParseInputShape(const std::string& text) {
  std::string s = NormalizeFullWidthPunct(text);
  std::vector<InputShapeEntry> out;
  std::set<std::string> seen;
  for (const std::string& raw : Split(s, ';')) {
    std::string entry = TrimSpaces(raw);
    if (entry.empty()) continue;
    size_t colon = entry.rfind(':');
    if (colon == std::string::npos) {
      return InvalidArgument("--input_shape entry '" + entry + "' has no ':'; expected \"name: n,c,h,w\"");
    }
    InputShapeEntry e;
    e.name = TrimSpaces(entry.substr(0, colon));
    if (e.name.empty()) return InvalidArgument("--input_shape entry '" + entry + "' has no input name before ':'");
    if (!seen.insert(e.name).second) return InvalidArgument("--input_shape names input '" + e.name + "' twice");
    std::string dims = TrimSpaces(entry.substr(colon + 1));
    // No dims: a rank-0 input (a sample rate), "sr:".
    for (const std::string& d0 : dims.empty() ? std::vector<std::string>{} : Split(dims, ',')) {
      std::string d = TrimSpaces(d0);
      char* end = nullptr;
      errno = 0;
      long long v = d.empty() ? 0 : std::strtoll(d.c_str(), &end, 10);
      if (d.empty() || *end != '\0' || errno == ERANGE) {
        return InvalidArgument("--input_shape: dim '" + d + "' of input '" + e.name + "' is not an integer");
      }
      if (v <= 0 || v > (1LL << 31)) {
        return InvalidArgument("--input_shape: dim " + d + " of input '" + e.name + "' must be a positive integer");
      }
      e.dims.push_back(v);
    }
    out.push_back(std::move(e));
  }
  if (out.empty()) return InvalidArgument("--input_shape is empty; expected \"name: n,c,h,w; name2: ...\"");
  return out;
}

StatusOr<std::vector<std::string>> ParseOutNodes(const std::string& text) {
  std::string s = NormalizeFullWidthPunct(text);
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const std::string& raw : Split(s, ';')) {
    std::string n = TrimSpaces(raw);
    if (n.empty()) continue;
    if (!seen.insert(n).second) return InvalidArgument("--out_nodes names '" + n + "' twice");
    out.push_back(n);
  }
  if (out.empty()) return InvalidArgument("--out_nodes is empty; expected \"node1; node2\"");
  return out;
}

std::vector<std::string> SplitExcludeOps(const std::vector<std::string>& entries) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const std::string& e : entries) {
    for (const std::string& raw : Split(NormalizeFullWidthPunct(e), ';')) {
      std::string n = TrimSpaces(raw);
      if (!n.empty() && seen.insert(n).second) out.push_back(n);
    }
  }
  return out;
}

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::vector<std::string> ClosestNames(const std::string& name, const std::vector<std::string>& candidates, size_t k) {
  std::vector<std::pair<size_t, std::string>> scored;
  std::set<std::string> seen;
  for (const auto& c : candidates) {
    if (seen.insert(c).second) scored.emplace_back(EditDistance(name, c), c);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::string> out;
  for (size_t i = 0; i < scored.size() && i < k; ++i) out.push_back(scored[i].second);
  return out;
}

std::string QuotedList(const std::vector<std::string>& names, size_t max_items) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < max_items; ++i) out += (i ? ", '" : "'") + names[i] + "'";
  if (names.size() > max_items) out += ", ... (" + std::to_string(names.size()) + " in all)";
  if (names.empty()) out = "(none)";
  return out;
}

}  // namespace dopt
