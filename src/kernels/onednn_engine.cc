#include "kernels/onednn_engine.h"

namespace dopt {
namespace kernels {

dnnl::engine& OneDnnEngine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

}  // namespace kernels
}  // namespace dopt
