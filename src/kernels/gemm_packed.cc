#include "kernels/gemm_packed.h"

#include <omp.h>

#include <algorithm>
#include <string>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/kernel_options.h"
#include "dnnl.hpp"
#include "kernels/onednn_engine.h"

namespace dopt {
namespace kernels {

namespace {

using dnnl::memory;
using Tag = OneDnnTag;
constexpr auto kF32 = kOneDnnF32;

dnnl::engine& Engine() { return OneDnnEngine(); }

// Primitives for one (M, lda): one per distinct block shape. The blocks are row ranges of A
// times the column blocks of B, row-major over (row range, column block).
struct Prims {
  std::vector<dnnl::matmul::primitive_desc> pds;
  std::vector<dnnl::matmul> prims;
  std::vector<int64_t> r0;    // row ranges [r0[i], r0[i + 1])
  std::vector<int> of_block;  // per block: index into pds / prims
  size_t scratch = 0;         // the largest scratchpad
  const uint64_t owner = NextOneDnnOwner();  // for ExecuteBound
};

// What the primitives compute after the product (the epilogue's head, see SgemmPackedB).
enum class Tail { kNone = 0, kBias = 1, kBiasRelu = 2 };
using PrimKey = std::tuple<int64_t, int64_t, int>;  // (M, lda, Tail)
constexpr size_t kMaxPrimSets = 16;

}  // namespace

struct PackedGemmBImpl {
  int64_t K = 0, N = 0, m_hint = 0;
  std::vector<int64_t> n0, nb;     // column blocks [n0, n0 + nb)
  std::vector<memory> wei;         // per block: the packed slice of B
  std::vector<memory::desc> wdesc; // its layout (primitives for other M must accept it)
  std::mutex mu;
  std::map<PrimKey, std::shared_ptr<Prims>> prims;
  std::string info;
};

int64_t PackedGemmB::K() const { return impl->K; }
int64_t PackedGemmB::N() const { return impl->N; }
std::string PackedGemmB::Describe() const {
  std::lock_guard<std::mutex> lock(impl->mu);
  return impl->info;
}

namespace {

// A primitive for M rows (A's leading dim lda) x nb columns, writing a dense [M, nb] result
// (oneDNN's brgemm matmul declines a strided destination); `wdesc` null: oneDNN picks the
// weight layout.
dnnl::matmul::primitive_desc MakePd(int64_t M, int64_t K, int64_t nb, int64_t lda, const memory::desc* wdesc,
                                    Tail tail = Tail::kNone) {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  const memory::desc src({M, K}, kF32, memory::dims{lda, 1});
  const memory::desc dst({M, nb}, kF32, Tag::ab);
  const memory::desc wei = wdesc ? *wdesc : memory::desc({K, nb}, kF32, Tag::any);
  if (tail == Tail::kNone) return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wei, dst), attr, Engine());
  if (tail == Tail::kBiasRelu) {
    dnnl::post_ops po;
    po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(po);
  }
  const memory::desc bias({1, nb}, kF32, Tag::ab);
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wei, bias, dst), attr, Engine());
}

bool IsRef(const dnnl::matmul::primitive_desc& pd) { return std::string(pd.impl_info_str()).rfind("ref", 0) == 0; }

}  // namespace

std::unique_ptr<PackedGemmB> PackGemmB(bool trans_b, int64_t K, int64_t N, const float* B, int64_t ldb,
                                       int64_t m_hint) {
  if (!OneDnnMatMulEnabled() || ReferenceKernelsForced() || K <= 0 || N <= 0) return nullptr;
  omp_set_num_threads(1);  // before any oneDNN code on this thread (see conv_onednn.cc)
  auto impl = std::make_shared<PackedGemmBImpl>();
  impl->K = K;
  impl->N = N;
  impl->m_hint = std::max<int64_t>(1, m_hint);
  // Column blocks: about one per 128 columns, at most 8, widths a multiple of 64 (oneDNN's
  // AVX-512 column block); fixed by N alone.
  const int64_t nblk = std::clamp<int64_t>(N / 128, 1, 8);
  int64_t bs = std::max<int64_t>(64, ((N + nblk - 1) / nblk + 63) / 64 * 64);
  try {
    // Without a brgemm kernel (AVX2: oneDNN's jit gemm, which packs B on every call), blocks of
    // at most 256 columns: ALBERT's 64 x 4096 x 16384 FFN product took 118 ms in 8 blocks of 2048
    // columns, 82 in blocks of 512, 69 in blocks of 256 (ONNX Runtime: 74; AMD Zen 5 as AVX2).
    if (bs > 256 && std::string(MakePd(impl->m_hint, K, bs, K, nullptr).impl_info_str()).rfind("brg", 0) != 0) bs = 256;
    dnnl::stream s(Engine());
    for (int64_t n0 = 0; n0 < N; n0 += bs) {
      const int64_t nb = std::min(bs, N - n0);
      auto pd = MakePd(impl->m_hint, K, nb, K, nullptr);
      if (IsRef(pd)) return nullptr;  // oneDNN's plain loops: OpenBLAS is faster
      // op(B)[k][n0 + j]: B[k * ldb + n0 + j], or B[(n0 + j) * ldb + k] with trans_b.
      const memory::desc user({K, nb}, kF32, trans_b ? memory::dims{1, ldb} : memory::dims{ldb, 1});
      const float* src = trans_b ? B + n0 * ldb : B + n0;
      memory musr(user, Engine(), const_cast<float*>(src));
      memory w(pd.weights_desc(), Engine());
      dnnl::reorder(musr, w).execute(s, musr, w);
      s.wait();
      impl->n0.push_back(n0);
      impl->nb.push_back(nb);
      impl->wdesc.push_back(pd.weights_desc());
      impl->wei.push_back(std::move(w));
    }
  } catch (const dnnl::error&) {
    return nullptr;
  }
  auto p = std::make_unique<PackedGemmB>();
  p->impl = std::move(impl);
  return p;
}

bool SgemmPackedB(ThreadPool* pool, PackedGemmB& b, int64_t M, float alpha, const float* A, int64_t lda, float beta,
                  float* C, int64_t ldc, const std::vector<EpilogueStep>* epilogue) {
  if (beta != 0.f && beta != 1.f) return false;
  PackedGemmBImpl& p = *b.impl;
  if (epilogue && epilogue->empty()) epilogue = nullptr;
  if (epilogue && (alpha != 1.f || beta != 0.f)) return false;
  // An epilogue that starts with adding a constant (a bias: per column or one value), maybe
  // then a ReLU, runs inside the primitive while each tile is in registers (oneDNN adds the
  // bias to the finished sum and takes max(v, 0): the bits of the separate ops, tested); the
  // rest of an epilogue runs on each finished block.
  Tail tail = Tail::kNone;
  std::vector<float> one_bias;   // a bias of one value, repeated for every column
  const float* bias = nullptr;   // per column
  std::vector<EpilogueStep> rest;
  if (epilogue && epilogue->front().op == EpilogueStep::kAdd) {
    const EpilogueStep& add = epilogue->front();
    if (add.channel_c.empty()) {
      one_bias.assign((size_t)p.N, add.a);
      bias = one_bias.data();
    } else {
      if ((int64_t)add.channel_c.size() != p.N) return false;
      bias = add.channel_c.data();
    }
    tail = Tail::kBias;
    rest.assign(epilogue->begin() + 1, epilogue->end());
    if (rest.size() == 1 && rest[0].op == EpilogueStep::kRelu) {
      tail = Tail::kBiasRelu;
      rest.clear();
    }
    epilogue = rest.empty() ? nullptr : &rest;
  }
  if (M <= 0) return true;
  omp_set_num_threads(1);
  const PrimKey key{M, lda, (int)tail};
  std::shared_ptr<Prims> pr;
  {
    std::lock_guard<std::mutex> lock(p.mu);
    auto it = p.prims.find(key);
    if (it != p.prims.end()) {
      pr = it->second;
    } else {
      // Many row counts (a dynamic sequence length): start over rather than fall back to
      // OpenBLAS, whose bits differ, so a row count's result never depends on what ran before.
      // Sets in use stay alive through their shared_ptr.
      if (p.prims.size() >= kMaxPrimSets) p.prims.clear();
      auto n = std::make_shared<Prims>();
      // Row ranges, fixed by the shape alone (never the thread count), only where B has fewer
      // than four column blocks (N below 512: Swin's, MobileViT's projections), which would not
      // spread over the threads: every row range reads all of B again, which costs more than
      // it gains for wide B (BERT's and ViT's MLPs: 10-15 % slower at one thread). About one
      // block per 1M multiply-adds, at most 8 in all, at least 32 rows each, an even count.
      const int64_t nc = (int64_t)p.nb.size();
      int64_t mr = 1;
      if (nc < 4) {
        const int64_t want = std::clamp<int64_t>((M * p.K * p.N) >> 20, 1, 8);
        const int64_t most = std::max<int64_t>(1, M / 32);
        mr = std::clamp<int64_t>((want + nc - 1) / nc, 1, most);
        if (mr > 1 && (mr * nc) % 2) mr = mr + 1 <= most ? mr + 1 : mr - 1;
      }
      for (int64_t r = 0; r <= mr; ++r) n->r0.push_back(r * M / mr);
      try {
        std::map<std::tuple<int64_t, int64_t, size_t>, int> made;  // (rows, width, weight desc) -> primitive
        for (int64_t r = 0; r < mr; ++r) {
          const int64_t rows = n->r0[(size_t)r + 1] - n->r0[(size_t)r];
          for (size_t bi = 0; bi < p.nb.size(); ++bi) {
            size_t wi = 0;
            while (!(p.wdesc[wi] == p.wdesc[bi])) ++wi;  // the first block with this layout
            auto f = made.find({rows, p.nb[bi], wi});
            if (f == made.end()) {
              auto pd = MakePd(rows, p.K, p.nb[bi], lda, &p.wdesc[bi], tail);
              if (IsRef(pd)) throw dnnl::error(dnnl_unimplemented, "only oneDNN's reference matmul");
              n->scratch = std::max(n->scratch, pd.scratchpad_desc().get_size());
              n->prims.emplace_back(pd);
              n->pds.push_back(pd);
              f = made.emplace(std::make_tuple(rows, p.nb[bi], wi), (int)n->pds.size() - 1).first;
            }
            n->of_block.push_back(f->second);
          }
        }
      } catch (const dnnl::error&) {
        n.reset();
      }
      p.prims[key] = n;  // a failed set stays null: not retried
      if (n && !n->pds.empty()) {
        const size_t blocks = n->of_block.size();
        p.info = std::string(n->pds.front().impl_info_str()) + ", " + std::to_string(blocks) + " block" +
                 (blocks == 1 ? "" : "s");
      }
      pr = n;
    }
  }
  if (!pr) return false;
  const int64_t nc = (int64_t)p.nb.size(), nblk = (int64_t)pr->of_block.size();
  auto fn = [&](int64_t b0, int64_t b1) {
    omp_set_num_threads(1);  // each primitive runs on this pool thread alone
    thread_local dnnl::stream strm(Engine());
    // Per call, not thread_local: a large M must not leave its buffers behind on every thread.
    std::unique_ptr<uint8_t[]> scratch(new uint8_t[std::max<size_t>(pr->scratch, 1)]);
    std::unique_ptr<float[]> tmp;
    size_t tmp_size = 0;
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int64_t ri = blk / nc, bi = blk % nc;
      const int64_t r0 = pr->r0[(size_t)ri], rows = pr->r0[(size_t)ri + 1] - r0;
      const int64_t n0 = p.n0[(size_t)bi], nb = p.nb[(size_t)bi];
      const int k = pr->of_block[(size_t)blk];
      const auto& pd = pr->pds[(size_t)k];
      // The block's dense result goes straight into C when that is C itself, else into tmp and
      // then C = alpha * tmp + beta * C (one rounding order for every thread count).
      const bool direct = ldc == nb && alpha == 1.f && beta == 0.f;
      if (!direct && tmp_size < (size_t)(rows * nb)) {
        tmp_size = (size_t)(rows * nb);
        tmp.reset(new float[tmp_size]);
      }
      float* out = direct ? C + r0 * ldc + n0 : tmp.get();
      const dnnl::primitive& prim = pr->prims[(size_t)k];
      const uint8_t* sp = scratch.get();
      if (bias) {
        ExecuteBound(prim, pd, pr->owner, k, strm,
                     {{DNNL_ARG_SRC, A + r0 * lda}, {DNNL_ARG_DST, out}, {DNNL_ARG_SCRATCHPAD, sp}, {DNNL_ARG_BIAS, bias + n0}},
                     &p.wei[(size_t)bi]);
      } else {
        ExecuteBound(prim, pd, pr->owner, k, strm, {{DNNL_ARG_SRC, A + r0 * lda}, {DNNL_ARG_DST, out}, {DNNL_ARG_SCRATCHPAD, sp}},
                     &p.wei[(size_t)bi]);
      }
      if (epilogue) ApplyEpilogueChannelsLast(*epilogue, out, rows, nb, n0);  // [rows, nb], dense
      if (direct) continue;
      for (int64_t i = 0; i < rows; ++i) {
        float* c = C + (r0 + i) * ldc + n0;
        const float* t = out + i * nb;
        if (beta == 0.f) {
          if (alpha == 1.f) std::memcpy(c, t, (size_t)nb * sizeof(float));
          else for (int64_t j = 0; j < nb; ++j) c[j] = alpha * t[j];
        } else {
          for (int64_t j = 0; j < nb; ++j) c[j] = alpha * t[j] + c[j];  // beta == 1
        }
      }
    }
  };
  if (pool && nblk > 1) pool->ParallelFor(nblk, 1, fn);
  else fn(0, nblk);
  return true;
}

}  // namespace kernels
}  // namespace dopt
