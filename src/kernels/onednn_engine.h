// The one oneDNN CPU engine of the process, shared by the oneDNN-backed kernels
// (conv_onednn.cc, gemm_packed.cc, gemm.cc).
#pragma once

#include "dnnl.hpp"

namespace dopt {
namespace kernels {

dnnl::engine& OneDnnEngine();

// False with DOPT_MATMUL_ONEDNN=0: the prepacked MatMul / Gemm (gemm_packed.cc) and the
// activation x activation SGEMM (gemm.cc, GemmEngine::kOneDnn) give way to OpenBLAS.
bool OneDnnMatMulEnabled();

using OneDnnTag = dnnl::memory::format_tag;
constexpr auto kOneDnnF32 = dnnl::memory::data_type::f32;

}  // namespace kernels
}  // namespace dopt
