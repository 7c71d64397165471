// The one oneDNN CPU engine of the process, shared by the oneDNN-backed kernels
// (conv_onednn.cc, gemm_packed.cc).
#pragma once

#include "dnnl.hpp"

namespace dopt {
namespace kernels {

dnnl::engine& OneDnnEngine();

using OneDnnTag = dnnl::memory::format_tag;
constexpr auto kOneDnnF32 = dnnl::memory::data_type::f32;

}  // namespace kernels
}  // namespace dopt
