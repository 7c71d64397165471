// The one oneDNN CPU engine of the process, shared by the oneDNN-backed kernels
// (conv_onednn.cc, gemm_packed.cc).
#pragma once

#include "dnnl.hpp"

namespace dopt {
namespace kernels {

dnnl::engine& OneDnnEngine();

}  // namespace kernels
}  // namespace dopt
