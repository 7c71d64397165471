// The one oneDNN CPU engine of the process, shared by the oneDNN-backed kernels
// (conv_onednn.cc, gemm_packed.cc, gemm.cc).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "dnnl.hpp"

namespace dopt {
namespace kernels {

dnnl::engine& OneDnnEngine();

// False with DOPT_MATMUL_ONEDNN=0: the prepacked MatMul / Gemm (gemm_packed.cc) and the
// activation x activation SGEMM (gemm.cc, GemmEngine::kOneDnn) give way to OpenBLAS.
bool OneDnnMatMulEnabled();

// The calling thread's memory objects for the arguments of one primitive, made once (with no
// data) and re-pointed with set_data_handle on every run: creating them per block and run cost
// about 3 % of a SqueezeNet forward. `owner` is a NextOneDnnOwner() number of the object that
// holds the primitive (never an address, which a later object may reuse), `index` the primitive
// among its own; `descs` are the arguments' descriptors, in the order the caller binds them.
std::vector<dnnl::memory>& ThreadBoundMemories(uint64_t owner, int index,
                                               std::initializer_list<dnnl::memory::desc> descs);
uint64_t NextOneDnnOwner();

using OneDnnTag = dnnl::memory::format_tag;
constexpr auto kOneDnnF32 = dnnl::memory::data_type::f32;

}  // namespace kernels
}  // namespace dopt
