#include "kernels/onednn_engine.h"

#include <cstdlib>
#include <cstring>

namespace dopt {
namespace kernels {

dnnl::engine& OneDnnEngine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

bool OneDnnMatMulEnabled() {
  static const bool on = [] {
    const char* e = std::getenv("DOPT_MATMUL_ONEDNN");
    return !(e && std::strcmp(e, "0") == 0);
  }();
  return on;
}

}  // namespace kernels
}  // namespace dopt
