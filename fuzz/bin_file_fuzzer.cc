// The calibration .bin reader (610 and 510 headers): header validation against the size, then
// the data copy. Also the header-only path used for folders of .bin files.
#include <string>

#include "data/bin_file.h"
#include "fuzz_target.h"

DOPT_FUZZ_TARGET(bin_file) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  auto t = dopt::ParseBinFile(bytes, "fuzz.bin");
  if (t.ok()) {
    // A file that parses must round-trip to the same bytes.
    auto h = dopt::ParseBinHeader(bytes, "fuzz.bin");
    DOPT_FUZZ_CHECK(h.ok() && dopt::SerializeBinFile(*t, h->magic) == bytes);
  }
  // The prefix reader sees only the first 40 bytes and the claimed file size.
  (void)dopt::ParseBinHeaderPrefix(bytes.substr(0, 40), size, "fuzz.bin");
  return 0;
}
