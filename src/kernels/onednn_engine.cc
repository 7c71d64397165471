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

std::vector<dnnl::memory>& ExecuteBound(const dnnl::primitive& prim, const dnnl::primitive_desc_base& pd,
                                        uint64_t owner, int index, dnnl::stream& strm,
                                        std::initializer_list<BoundArg> args, const dnnl::memory* weights) {
  struct Bound {
    std::vector<int> ids;  // the argument ids the memory objects were made for
    std::vector<dnnl::memory> mems;
  };
  thread_local std::map<std::pair<uint64_t, int>, Bound> bound;
  if (bound.size() > 4096) bound.clear();  // primitives of models run long ago
  Bound& b = bound[{owner, index}];
  bool same = b.ids.size() == args.size();
  size_t k = 0;
  for (const BoundArg& a : args) same = same && b.ids[k++] == a.arg;
  if (!same) {
    b.ids.clear();
    b.mems.clear();
    for (const BoundArg& a : args) {
      b.ids.push_back(a.arg);
      b.mems.push_back(dnnl::memory(pd.query_md(dnnl::query::exec_arg_md, a.arg), OneDnnEngine(), DNNL_MEMORY_NONE));
    }
  }
  std::vector<dnnl::memory>& mems = b.mems;
  constexpr size_t kMaxArgs = 8;
  if (args.size() + (weights ? 1 : 0) > kMaxArgs) {
    dnnl::error::wrap_c_api(dnnl_invalid_arguments, "too many primitive arguments");
  }
  dnnl_exec_arg_t c_args[kMaxArgs];
  int n = 0;
  for (const BoundArg& a : args) {
    dnnl::error::wrap_c_api(dnnl_memory_set_data_handle_v2(mems[(size_t)n].get(), const_cast<void*>(a.ptr), nullptr),
                            "could not set a memory's data handle");
    c_args[n] = {a.arg, mems[(size_t)n].get()};
    ++n;
  }
  if (weights) c_args[n++] = {DNNL_ARG_WEIGHTS, weights->get()};
  dnnl::error::wrap_c_api(dnnl_primitive_execute(prim.get(), strm.get(), n, c_args), "could not execute a primitive");
  strm.wait();
  return mems;
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
