// The compress_conf reader, the text/JSON views of `dopt inspect`, and re-serialisation.
#include <string>

#include "quant/compress_conf.h"
#include "fuzz_target.h"

DOPT_FUZZ_TARGET(compress_conf) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  auto plan = dopt::ParseCompressConf(bytes, "fuzz.compress_conf");
  if (!plan.ok()) return 0;
  (void)dopt::CompressConfToText(*plan, false);
  (void)dopt::CompressConfToText(*plan, true);
  (void)dopt::SerializeCompressConf(*plan);
  return 0;
}
