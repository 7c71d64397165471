#include "kernels/onednn_engine.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <utility>

namespace dopt {
namespace kernels {

dnnl::engine& OneDnnEngine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

uint64_t NextOneDnnOwner() {
  static std::atomic<uint64_t> next{0};
  return ++next;
}

std::vector<dnnl::memory>& ThreadBoundMemories(uint64_t owner, int index,
                                               std::initializer_list<dnnl::memory::desc> descs) {
  thread_local std::map<std::pair<uint64_t, int>, std::vector<dnnl::memory>> bound;
  if (bound.size() > 4096) bound.clear();  // primitives of models run long ago
  auto it = bound.find({owner, index});
  if (it == bound.end()) {
    std::vector<dnnl::memory> mems;
    for (const dnnl::memory::desc& d : descs) mems.push_back(dnnl::memory(d, OneDnnEngine(), DNNL_MEMORY_NONE));
    it = bound.emplace(std::make_pair(owner, index), std::move(mems)).first;
  }
  return it->second;
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
