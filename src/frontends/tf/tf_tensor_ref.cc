#include "frontends/tf/tf_tensor_ref.h"

#include <algorithm>
#include <climits>
#include <cstdint>

namespace dopt {

TfTensorRef ParseTfInput(const std::string& s) {
  TfTensorRef r;
  std::string n = s;
  if (!n.empty() && n[0] == '^') {
    r.control = true;
    r.node = n.substr(1);
    return r;
  }
  size_t colon = n.rfind(':');
  if (colon != std::string::npos && colon + 1 < n.size() &&
      n.find_first_not_of("0123456789", colon + 1) == std::string::npos) {
    r.node = n.substr(0, colon);
    // Saturates instead of std::stoi (which throws past INT_MAX on file data): an index that
    // large names no output of any node, so it matches nothing.
    int64_t v = 0;
    for (size_t i = colon + 1; i < n.size() && v <= INT_MAX; ++i) v = v * 10 + (n[i] - '0');
    r.index = (int)std::min<int64_t>(v, INT_MAX);
  } else {
    r.node = n;
  }
  return r;
}

std::string TfTensorName(const std::string& node, int index) {
  return index == 0 ? node : node + ":" + std::to_string(index);
}

}  // namespace dopt
