#include "kernels/conv_onednn.h"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "dnnl.hpp"

namespace dopt {
namespace kernels {

namespace {

using dnnl::memory;
using Tag = dnnl::memory::format_tag;
constexpr auto kF32 = dnnl::memory::data_type::f32;

void ParallelOrSerial(ThreadPool* pool, int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (pool) pool->ParallelFor(n, 1, fn);
  else fn(0, n);
}

dnnl::engine& Engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

// One output-channel block: a primitive (shared by blocks of the same size) and its weights.
struct Block {
  int64_t m0 = 0, mb = 0;  // output channels [m0, m0 + mb)
  int prim = 0;            // index into Entry::prims (and Entry::out_reorders)
  memory wei;
};

// Input channels [c0, c0 + cc) of the NCHW -> nChw8c source reorder.
struct InChunk {
  int64_t c0 = 0, cc = 0;
  int re = 0;  // index into Entry::in_reorders
};

struct Entry {
  bool supported = false;
  std::vector<float> wcopy;  // the weights this entry was built from
  bool depthwise = false;
  bool src_blocked = false;  // src in nChw8c (else NCHW, e.g. the 3-channel first layer)
  std::vector<dnnl::convolution_forward> prims;
  std::vector<dnnl::convolution_forward::primitive_desc> pds;
  std::vector<Block> blocks;
  std::vector<dnnl::reorder> out_reorders;  // per prim: its nChw8c dst -> NCHW slice of y
  std::vector<memory::desc> out_descs;      // their destination descs
  std::vector<InChunk> in_chunks;
  std::vector<dnnl::reorder> in_reorders;
  std::vector<memory::desc> in_src_descs, in_dst_descs;
  std::vector<float> zero_bias;
};

using Key = std::vector<int64_t>;

std::mutex g_mu;
std::map<Key, std::shared_ptr<Entry>>* g_cache = new std::map<Key, std::shared_ptr<Entry>>();  // never freed
constexpr size_t kMaxEntries = 512;

bool Enabled() {
  static const bool on = [] {
    const char* e = std::getenv("DOPT_CONV_ONEDNN");
    return !(e && std::string(e) == "0");
  }();
  return on;
}

int64_t Round8(int64_t v) { return (v + 7) / 8 * 8; }

std::shared_ptr<Entry> Build(const ConvGeom& g, const float* w, const Activation& act) {
  auto e = std::make_shared<Entry>();
  const int64_t Cg = g.C / g.G, ks = g.KSize();
  e->wcopy.assign(w, w + g.M * Cg * ks);
  e->depthwise = g.G > 1;
  const int64_t OH = g.out[1], OW = g.out[2];
  // Blocks of output channels: about 4 per conv (multiples of 8), fixed by the shape.
  // Dense: 2 blocks (each block re-reads the whole input, so more blocks cost input reuse);
  // depthwise: 4 (its blocks share nothing).
  const int64_t nblk = e->depthwise ? 4 : 2;
  const int64_t ob = std::max<int64_t>(8, Round8((g.M + nblk - 1) / nblk));
  e->zero_bias.assign((size_t)g.M, 0.f);

  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (act.kind != Activation::kNone) {
    dnnl::post_ops po;
    if (act.kind == Activation::kRelu) po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    if (act.kind == Activation::kLeakyRelu) po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, act.alpha, 0.f);
    if (act.kind == Activation::kClip) po.append_eltwise(1.f, dnnl::algorithm::eltwise_clip_v2, act.lo, act.hi);
    attr.set_post_ops(po);
  }
  const memory::dims st = {g.s[1], g.s[2]}, dl = {g.d[1] - 1, g.d[2] - 1}, pl = {g.pb[1], g.pb[2]};
  // End pads from the output size; ONNX floors the output, so the exact value may be negative
  // (down to 1 - stride): oneDNN floors too, so 0 gives the same output size then.
  memory::dims pr = {(OH - 1) * g.s[1] + (g.k[1] - 1) * g.d[1] + 1 - g.in[1] - g.pb[1],
                     (OW - 1) * g.s[2] + (g.k[2] - 1) * g.d[2] + 1 - g.in[2] - g.pb[2]};
  for (int i = 0; i < 2; ++i) {
    if (pr[i] <= -g.s[1 + i]) return e;
    pr[i] = std::max<memory::dim>(0, pr[i]);
  }

  std::map<int64_t, int> prim_of_size;
  for (int64_t m0 = 0; m0 < g.M; m0 += ob) {
    Block b;
    b.m0 = m0;
    b.mb = std::min(ob, g.M - m0);
    auto it = prim_of_size.find(b.mb);
    if (it == prim_of_size.end()) {
      const int64_t cin = e->depthwise ? b.mb : g.C;
      memory::dims src_d = {1, cin, g.in[1], g.in[2]}, dst_d = {1, b.mb, OH, OW}, bia_d = {b.mb};
      memory::dims wei_d = e->depthwise ? memory::dims{b.mb, 1, 1, g.k[1], g.k[2]}
                                        : memory::dims{b.mb, g.C, g.k[1], g.k[2]};
      dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                        {src_d, kF32, Tag::any}, {wei_d, kF32, Tag::any}, {bia_d, kF32, Tag::x},
                                        {dst_d, kF32, Tag::any}, st, dl, pl, pr);
      dnnl::convolution_forward::primitive_desc pd(d, attr, Engine());
      // Only the layouts our reorders handle: src nChw8c (or plain NCHW), dst nChw8c.
      const bool src_blk = pd.src_desc() == memory::desc(src_d, kF32, Tag::nChw8c);
      const bool src_plain = pd.src_desc() == memory::desc(src_d, kF32, Tag::nchw);
      if (pd.dst_desc() != memory::desc(dst_d, kF32, Tag::nChw8c) || !(src_blk || src_plain)) return e;
      if (e->pds.empty()) e->src_blocked = src_blk;
      else if (e->src_blocked != src_blk) return e;
      if (src_blk && g.C % 8 != 0) return e;
      prim_of_size[b.mb] = (int)e->pds.size();
      e->pds.push_back(pd);
      e->prims.emplace_back(pd);
      // dst block -> channels [m0, m0 + mb) of the NCHW output (strided plain layout).
      memory::desc ydesc(dst_d, kF32, memory::dims{g.M * OH * OW, OH * OW, OW, 1});
      e->out_reorders.emplace_back(dnnl::reorder::primitive_desc(Engine(), pd.dst_desc(), Engine(), ydesc));
      e->out_descs.push_back(ydesc);
      it = prim_of_size.find(b.mb);
    }
    b.prim = it->second;
    const auto& pd = e->pds[b.prim];
    memory::dims wei_d = e->depthwise ? memory::dims{b.mb, 1, 1, g.k[1], g.k[2]}
                                      : memory::dims{b.mb, g.C, g.k[1], g.k[2]};
    memory usr({wei_d, kF32, e->depthwise ? Tag::goihw : Tag::oihw}, Engine(),
               const_cast<float*>(e->wcopy.data() + m0 * Cg * ks));
    b.wei = memory(pd.weights_desc(), Engine());
    dnnl::stream s(Engine());
    dnnl::reorder(usr, b.wei).execute(s, usr, b.wei);
    s.wait();
    e->blocks.push_back(std::move(b));
  }
  if (e->src_blocked) {
    // Source reorder in about 4 channel chunks (multiples of 8; a reorder is exact, so the
    // split does not affect results).
    const int64_t cc = Round8((g.C + 3) / 4);
    std::map<int64_t, int> re_of_size;
    for (int64_t c0 = 0; c0 < g.C; c0 += cc) {
      InChunk ch;
      ch.c0 = c0;
      ch.cc = std::min(cc, g.C - c0);
      auto it = re_of_size.find(ch.cc);
      if (it == re_of_size.end()) {
        memory::dims d = {1, ch.cc, g.in[1], g.in[2]};
        const int64_t HW = g.in[1] * g.in[2];
        memory::desc xdesc(d, kF32, memory::dims{g.C * HW, HW, g.in[2], 1});
        re_of_size[ch.cc] = (int)e->in_reorders.size();
        memory::desc bdesc(d, kF32, Tag::nChw8c);
        e->in_reorders.emplace_back(dnnl::reorder::primitive_desc(Engine(), xdesc, Engine(), bdesc));
        e->in_src_descs.push_back(xdesc);
        e->in_dst_descs.push_back(bdesc);
        it = re_of_size.find(ch.cc);
      }
      ch.re = it->second;
      e->in_chunks.push_back(ch);
    }
  }
  e->supported = true;
  return e;
}

std::shared_ptr<Entry> Lookup(const ConvGeom& g, const float* w, const Activation& act) {
  float fa[3] = {act.alpha, act.lo, act.hi};
  int32_t ia[3];
  std::memcpy(ia, fa, sizeof ia);
  Key key = {(int64_t)(intptr_t)w, g.C, g.M, g.G, g.in[1], g.in[2], g.out[1], g.out[2], g.k[1], g.k[2],
             g.s[1], g.s[2], g.d[1], g.d[2], g.pb[1], g.pb[2], (int64_t)act.kind, ia[0], ia[1], ia[2]};
  const size_t wn = (size_t)(g.M * (g.C / g.G) * g.KSize());
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = g_cache->find(key);
  if (it != g_cache->end() && it->second->wcopy.size() == wn &&
      std::memcmp(it->second->wcopy.data(), w, wn * sizeof(float)) == 0) {
    return it->second;
  }
  std::shared_ptr<Entry> e;
  try {
    e = Build(g, w, act);
  } catch (const dnnl::error&) {
    e = std::make_shared<Entry>();
    e->wcopy.assign(w, w + wn);
  }
  if (g_cache->size() >= kMaxEntries) g_cache->clear();  // entries in use stay alive (shared_ptr)
  (*g_cache)[key] = e;
  return e;
}

}  // namespace

bool ConvForwardOneDnn(const ConvGeom& g, const float* x, const float* w, const float* bias, float* y,
                       ThreadPool* pool, const Activation& act) {
  if (!Enabled()) return false;
  // 2-D only, not pointwise (1x1 stride 1 stays on OpenBLAS: no gain there), dense or depthwise,
  // output channels a multiple of 8.
  if (g.in[0] != 1 || g.out[0] != 1 || g.k[0] != 1) return false;
  if (g.k[1] == 1 && g.k[2] == 1 && g.s[1] == 1 && g.s[2] == 1) return false;
  const bool depthwise = g.G > 1 && g.G == g.C && g.G == g.M;
  if (g.G != 1 && !depthwise) return false;
  if (g.M % 8 != 0 || (depthwise && g.C % 8 != 0)) return false;
  // Before anything runs oneDNN code on this thread (also the weight reorders in Build): with
  // more than one OpenMP thread, libgomp would start a team whose idle workers spin.
  omp_set_num_threads(1);
  std::shared_ptr<Entry> e = Lookup(g, w, act);
  if (!e->supported) return false;

  const int64_t HW = g.in[1] * g.in[2], OHW = g.out[1] * g.out[2];
  std::unique_ptr<float[]> xb(e->src_blocked ? new float[(size_t)(g.C * HW)] : nullptr);
  const float* b_all = bias ? bias : e->zero_bias.data();
  for (int64_t n = 0; n < g.N; ++n) {
    const float* xn = x + n * g.C * HW;
    float* yn = y + n * g.M * OHW;
    if (e->src_blocked) {
      ParallelOrSerial(pool, (int64_t)e->in_chunks.size(), [&](int64_t c0, int64_t c1) {
        omp_set_num_threads(1);
        thread_local dnnl::stream strm(Engine());
        for (int64_t ci = c0; ci < c1; ++ci) {
          const InChunk& ch = e->in_chunks[(size_t)ci];
          memory ms(e->in_src_descs[(size_t)ch.re], Engine(), const_cast<float*>(xn + ch.c0 * HW));
          memory md(e->in_dst_descs[(size_t)ch.re], Engine(), xb.get() + ch.c0 * HW);
          e->in_reorders[(size_t)ch.re].execute(strm, ms, md);
          strm.wait();
        }
      });
    }
    const float* src_all = e->src_blocked ? xb.get() : xn;
    ParallelOrSerial(pool, (int64_t)e->blocks.size(), [&](int64_t b0, int64_t b1) {
      omp_set_num_threads(1);  // each primitive runs on this pool thread alone
      thread_local dnnl::stream strm(Engine());
      std::unique_ptr<float[]> yb;
      size_t yb_size = 0;
      std::vector<uint8_t> scratch;
      for (int64_t bi = b0; bi < b1; ++bi) {
        const Block& b = e->blocks[(size_t)bi];
        const auto& pd = e->pds[(size_t)b.prim];
        // Depthwise: the block's input channels are contiguous in nChw8c (m0 is a multiple of 8).
        const float* src = e->depthwise ? src_all + b.m0 * HW : src_all;
        if (yb_size < (size_t)(b.mb * OHW)) {
          yb_size = (size_t)(b.mb * OHW);
          yb.reset(new float[yb_size]);
        }
        scratch.resize(pd.scratchpad_desc().get_size());
        memory msrc(pd.src_desc(), Engine(), const_cast<float*>(src));
        memory mbia(pd.bias_desc(), Engine(), const_cast<float*>(b_all + b.m0));
        memory mdst(pd.dst_desc(), Engine(), yb.get());
        memory mscr(pd.scratchpad_desc(), Engine(), scratch.data());
        e->prims[(size_t)b.prim].execute(strm, {{DNNL_ARG_SRC, msrc},
                                                {DNNL_ARG_WEIGHTS, b.wei},
                                                {DNNL_ARG_BIAS, mbia},
                                                {DNNL_ARG_DST, mdst},
                                                {DNNL_ARG_SCRATCHPAD, mscr}});
        // nChw8c block -> its channels of the NCHW output.
        const dnnl::reorder& re = e->out_reorders[(size_t)b.prim];
        memory my(e->out_descs[(size_t)b.prim], Engine(), yn + b.m0 * OHW);
        re.execute(strm, mdst, my);
        strm.wait();
      }
    });
  }
  return true;
}

}  // namespace kernels
}  // namespace dopt
