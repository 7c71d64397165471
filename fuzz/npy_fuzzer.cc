// The .npy reader (`dopt run --input NAME=FILE.npy`, `dopt make-bin --npy`): magic, version,
// header dict (descr, fortran_order, shape), data size against the shape.
#include <cstring>
#include <string>

#include "fuzz_target.h"
#include "io/npy.h"

DOPT_FUZZ_TARGET(npy) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  auto t = dopt::ParseNpy(bytes, "fuzz.npy");
  if (t.ok()) {
    // What dopt writes for a tensor it read must read back as the same tensor.
    auto back = dopt::ParseNpy(dopt::SerializeNpy(*t), "back.npy");
    DOPT_FUZZ_CHECK(back.ok() && back->dtype() == t->dtype() && back->shape() == t->shape() &&
                    back->nbytes() == t->nbytes() &&
                    (t->nbytes() == 0 || std::memcmp(back->raw(), t->raw(), t->nbytes()) == 0));
  }
  return 0;
}
