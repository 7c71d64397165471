// The config.prototxt parser: `//` comment stripping, then TextFormat and dopt's checks.
#include <cstddef>
#include <cstdint>
#include <string>

#include "data/calib_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::string stripped = dopt::StripLineComments(text);
  if (stripped.size() != text.size()) __builtin_trap();  // positions must stay the same
  (void)dopt::ParseCalibConfig(text, "/nonexistent/fuzz/config.prototxt");
  return 0;
}
