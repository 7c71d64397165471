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

// One argument of ExecuteBound: the argument id (DNNL_ARG_*) and the buffer it reads or writes.
struct BoundArg {
  int arg;
  const void* ptr;
};

// Runs `prim` (made from `pd`) on `strm` and waits for it. The arguments are the calling thread's
// memory objects for `args`, made once per (owner, index) with the descs `pd` reports for them
// and re-pointed at the given buffers on every run (creating them per block and run cost about
// 3 % of a SqueezeNet forward; a map of arguments per run, 1-2 % of an EfficientNet-B0 one).
// `weights`, when not null, joins them as DNNL_ARG_WEIGHTS as it is. `owner` is a
// NextOneDnnOwner() number of the object that holds the primitive (never an address, which a
// later object may reuse), `index` the primitive among its own (other argument ids than the last
// run's remake the memory objects). Returns the memory objects in the order of `args` (the
// destination's, for a reorder after the primitive). Throws dnnl::error as execute() does.
std::vector<dnnl::memory>& ExecuteBound(const dnnl::primitive& prim, const dnnl::primitive_desc_base& pd,
                                        uint64_t owner, int index, dnnl::stream& strm,
                                        std::initializer_list<BoundArg> args, const dnnl::memory* weights = nullptr);
uint64_t NextOneDnnOwner();

using OneDnnTag = dnnl::memory::format_tag;
constexpr auto kOneDnnF32 = dnnl::memory::data_type::f32;

}  // namespace kernels
}  // namespace dopt
