// The config.prototxt parser: `//` comment stripping, then TextFormat and dopt's checks.
#include <string>

#include "data/calib_config.h"
#include "fuzz_target.h"

DOPT_FUZZ_TARGET(calib_config) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::string stripped = dopt::StripLineComments(text);
  DOPT_FUZZ_CHECK(stripped.size() == text.size());  // positions must stay the same
  (void)dopt::ParseCalibConfig(text, "/nonexistent/fuzz/config.prototxt");
  return 0;
}
