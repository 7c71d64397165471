// Placeholder, replaced by the kernels branch at merge (see kernel_options.h).
#include "common/kernel_options.h"

#include <cstdlib>
#include <cstring>

namespace dopt {

namespace {
bool& Forced() {
  static bool forced = [] {
    const char* e = std::getenv("DOPT_REFERENCE_KERNELS");
    return e && *e && std::strcmp(e, "0") != 0;
  }();
  return forced;
}
}  // namespace

bool ReferenceKernelsForced() { return Forced(); }
void SetReferenceKernelsForced(bool forced) { Forced() = forced; }

}  // namespace dopt
