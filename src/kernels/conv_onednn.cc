#include "kernels/conv_onednn.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
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

void ParallelOrSerial(ThreadPool* pool, int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (pool) pool->ParallelFor(n, 1, fn);
  else fn(0, n);
}

dnnl::engine& Engine() { return OneDnnEngine(); }

std::atomic<int> g_layout{(int)OneDnnLayout::kPreferred};  // SetConvOneDnnLayoutForTesting

Tag TagOf(OneDnnLayout l) {
  switch (l) {
    case OneDnnLayout::kNchw: return Tag::nchw;
    case OneDnnLayout::kNhwc: return Tag::nhwc;
    case OneDnnLayout::kNChw8c: return Tag::nChw8c;
    case OneDnnLayout::kNChw16c: return Tag::nChw16c;
    case OneDnnLayout::kPreferred: break;
  }
  return Tag::any;
}

// The name of a 4-D desc's layout among the common ones, for DescribeConvOneDnn.
std::string LayoutName(const memory::desc& d) {
  const memory::dims dims = d.dims();
  const std::pair<Tag, const char*> known[] = {{Tag::nchw, "nchw"},     {Tag::nhwc, "nhwc"},
                                               {Tag::nChw4c, "nChw4c"}, {Tag::nChw8c, "nChw8c"},
                                               {Tag::nChw16c, "nChw16c"}};
  for (const auto& k : known)
    if (d == memory::desc(dims, kF32, k.first)) return k.second;
  return "other";
}

// The channel (dim 1) block size of a desc: 16 for nChw16c, 1 for plain layouts.
int64_t ChannelBlock(const memory::desc& d) {
  if (d.data.format_kind != dnnl_blocked) return 1;
  const auto& b = d.data.format_desc.blocking;
  int64_t blk = 1;
  for (int i = 0; i < b.inner_nblks; ++i)
    if (b.inner_idxs[i] == 1) blk *= b.inner_blks[i];
  return blk;
}

int64_t RoundUp(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

// One output-channel block: a primitive (shared by blocks of the same size) and its weights.
struct Block {
  int64_t m0 = 0, mb = 0;  // output channels [m0, m0 + mb)
  int prim = 0;            // index into Entry::prims (and the per-primitive vectors)
  memory wei;
};

// Rows [h0, h0 + hh) of the dense source reorder (NCHW -> the primitives' source layout).
struct InChunk {
  memory::desc from, to;  // sub-memory descs of the whole image (their offsets are inside)
  dnnl::reorder re;
};

struct Entry {
  // Tells entries apart for the per-thread memory objects (ExecuteBound).
  const uint64_t serial = NextOneDnnOwner();
  bool supported = false;
  std::vector<float> wcopy;  // the weights this entry was built from
  // G > 1. The channels-first path takes only depthwise convs (Handled), in blocks of whole
  // input planes; the channels-last path takes any grouping, as one block of all channels.
  bool grouped = false;
  std::string info;  // for DescribeConvOneDnn
  // Dense: the source desc shared by every block ({1, C, H, W}); reordered into when not plain
  // NCHW (src_reorder), in row chunks.
  memory::desc src_desc;
  bool src_reorder = false;
  std::vector<InChunk> in_chunks;
  // Per primitive (one per distinct block size).
  std::vector<dnnl::convolution_forward::primitive_desc> pds;
  std::vector<dnnl::convolution_forward> prims;
  std::vector<size_t> scratch_bytes;  // each primitive's scratchpad size
  // Depthwise: NCHW channel slice -> the primitive's source (none when that is plain NCHW).
  std::vector<bool> dw_in_reorder;
  std::vector<memory::desc> dw_in_descs;
  std::vector<dnnl::reorder> dw_in_reorders;
  // The primitive's destination -> its channels of the NCHW output (none when the destination
  // is plain NCHW: the primitive then writes there directly).
  std::vector<bool> out_reorder;
  std::vector<memory::desc> out_descs;
  std::vector<dnnl::reorder> out_reorders;
  std::vector<Block> blocks;
  std::vector<float> zero_bias;
  // Channels-last (ConvForwardOneDnnNhwc): one image's output rows [oh0, oh1) and channels
  // [m0, m0 + mb), read from input rows [ih0, ...), by primitive `prim` (one per distinct row
  // count, padding and channel count) with the weights `wei`.
  struct RowBlock {
    int64_t oh0 = 0, oh1 = 0, ih0 = 0;
    int64_t m0 = 0, mb = 0;  // output channels [m0, m0 + mb)
    int prim = 0;
    memory wei;
  };
  std::vector<RowBlock> rows;
  bool epilogue_in_primitive = false;  // the epilogue runs as oneDNN post-ops
};

using Key = std::vector<int64_t>;

// The thread's scratchpad for conv primitives (small: kilobytes), grown only.
uint8_t* Scratchpad(size_t bytes) {
  thread_local std::vector<uint8_t> scratch;
  if (scratch.size() < bytes) scratch.resize(bytes);
  return scratch.data();
}

// Runs primitive `prim` of `e` on this thread's memory objects for its arguments, re-pointed at
// src, bias and dst, and waits for it; returns the destination memory (for a reorder after it).
memory& ExecuteConv(const Entry& e, int prim, dnnl::stream& strm, const float* src, const memory& wei,
                    const float* bias, float* dst) {
  const auto& pd = e.pds[(size_t)prim];
  std::vector<memory>& m = ExecuteBound(e.prims[(size_t)prim], pd, e.serial, prim, strm,
                                        {{DNNL_ARG_SRC, src},
                                         {DNNL_ARG_BIAS, bias},
                                         {DNNL_ARG_DST, dst},
                                         {DNNL_ARG_SCRATCHPAD, Scratchpad(e.scratch_bytes[(size_t)prim])}},
                                        &wei);
  return m[2];
}

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

// The fused activation as a oneDNN post-op (none for kNone).
dnnl::post_ops ActivationPostOps(const Activation& act) {
  dnnl::post_ops po;
  if (act.kind == Activation::kRelu) po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
  if (act.kind == Activation::kLeakyRelu) po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, act.alpha, 0.f);
  if (act.kind == Activation::kClip) po.append_eltwise(1.f, dnnl::algorithm::eltwise_clip_v2, act.lo, act.hi);
  return po;
}

// User scratchpad, and the post-ops.
dnnl::primitive_attr MakeAttr(const dnnl::post_ops& po) {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  attr.set_post_ops(po);
  return attr;
}
dnnl::primitive_attr MakeAttr(const Activation& act) { return MakeAttr(ActivationPostOps(act)); }

// Appends the epilogue program as oneDNN eltwise post-ops, computed in the convolution's
// registers (SiLU = Save, Sigmoid, MulSaved is oneDNN's swish); false when some step has no
// such form (per-channel constants, the other *Saved uses, kDivInto, kHardSigmoid), and then
// `po` must be discarded. The values agree with the steps up to float rounding (oneDNN's own
// exp, x * (1 / c) for x / c), which is why only the channels-last path, never run by the
// exact (calibration) executors, uses it.
bool AppendEpiloguePostOps(const std::vector<EpilogueStep>& steps, dnnl::post_ops* po) {
  using A = dnnl::algorithm;
  // At most one post-op of each algorithm in the chain: oneDNN 2.6 computes wrong values with
  // two linear post-ops in one chain (seen in brgconv and brdgmm_dw), so consecutive affine
  // steps become one linear post-op and any repeat declines.
  std::vector<A> used;
  for (int i = 0; i < po->len(); ++i) {
    A alg;
    float scale, a, b;
    po->get_params_eltwise(i, scale, alg, a, b);
    used.push_back(alg);
  }
  bool ok = true;
  auto append = [&](A alg, float a, float b) {
    if (std::find(used.begin(), used.end(), alg) != used.end()) ok = false;
    used.push_back(alg);
    po->append_eltwise(1.f, alg, a, b);
  };
  bool affine = false;
  float alpha = 1.f, beta = 0.f;
  auto flush = [&] {
    if (affine) append(A::eltwise_linear, alpha, beta);
    affine = false;
    alpha = 1.f;
    beta = 0.f;
  };
  auto then = [&](float a, float b) {  // v -> a * v + b after the pending affine map
    alpha *= a;
    beta = a * beta + b;
    affine = true;
  };
  for (size_t i = 0; i < steps.size(); ++i) {
    const EpilogueStep& s = steps[i];
    if (!s.channel_c.empty()) return false;
    switch (s.op) {
      case EpilogueStep::kAdd: then(1.f, s.a); continue;
      case EpilogueStep::kSub: then(1.f, -s.a); continue;
      case EpilogueStep::kSubFrom: then(-1.f, s.a); continue;
      case EpilogueStep::kMul: then(s.a, 0.f); continue;
      case EpilogueStep::kDiv:
        if (s.a == 0.f) return false;
        then(1.f / s.a, 0.f);
        continue;
      default: break;
    }
    flush();
    if (IsSiluAt(steps, i)) {
      append(A::eltwise_swish, 1.f, 0.f);
      i += 2;
      continue;
    }
    switch (s.op) {
      case EpilogueStep::kRelu: append(A::eltwise_relu, 0.f, 0.f); break;
      case EpilogueStep::kLeakyRelu: append(A::eltwise_relu, s.a, 0.f); break;
      case EpilogueStep::kClip: append(A::eltwise_clip_v2, s.a, s.b); break;
      case EpilogueStep::kSigmoid: append(A::eltwise_logistic, 0.f, 0.f); break;
      case EpilogueStep::kTanh: append(A::eltwise_tanh, 0.f, 0.f); break;
      case EpilogueStep::kHardSwish: append(A::eltwise_hardswish, 1.f / 6.f, 0.5f); break;
      default: return false;
    }
  }
  flush();
  return ok;
}

// End pad of a window dim from the output size. ONNX floors the output, so the exact value may
// be negative (down to 1 - stride): oneDNN floors too, so 0 gives the same output size then.
// False when it is below that (not a size oneDNN can express).
bool EndPad(int64_t in, int64_t out, int64_t k, int64_t s, int64_t d, int64_t pb, memory::dim* pe) {
  const int64_t p = (out - 1) * s + (k - 1) * d + 1 - in - pb;
  if (p <= -s) return false;
  *pe = std::max<int64_t>(0, p);
  return true;
}

std::shared_ptr<Entry> Build(const ConvGeom& g, const float* w, const Activation& act, OneDnnLayout layout) {
  auto e = std::make_shared<Entry>();
  const int64_t Cg = g.C / g.G, ks = g.KSize();
  e->wcopy.assign(w, w + g.M * Cg * ks);
  e->grouped = g.G > 1;
  const int64_t H = g.in[1], W = g.in[2], OH = g.out[1], OW = g.out[2];
  e->zero_bias.assign((size_t)g.M, 0.f);

  const dnnl::primitive_attr attr = MakeAttr(act);
  const memory::dims st = {g.s[1], g.s[2]}, dl = {g.d[1] - 1, g.d[2] - 1}, pl = {g.pb[1], g.pb[2]};
  memory::dims pr = {0, 0};
  for (int i = 0; i < 2; ++i)
    if (!EndPad(g.in[1 + i], g.out[1 + i], g.k[1 + i], g.s[1 + i], g.d[1 + i], g.pb[1 + i], &pr[i])) return e;
  const Tag forced = TagOf(layout);
  // A primitive for `mb` output channels (depthwise: also mb input channels); `src` fixes its
  // source desc, else the layout is oneDNN's choice (or the forced one).
  auto make_pd = [&](int64_t mb, const memory::desc* src) {
    const int64_t cin = e->grouped ? mb : g.C;
    memory::dims src_d = {1, cin, H, W}, dst_d = {1, mb, OH, OW}, bia_d = {mb};
    memory::dims wei_d = e->grouped ? memory::dims{mb, 1, 1, g.k[1], g.k[2]} : memory::dims{mb, g.C, g.k[1], g.k[2]};
    dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                      src ? *src : memory::desc(src_d, kF32, forced), {wei_d, kF32, Tag::any},
                                      {bia_d, kF32, Tag::x}, {dst_d, kF32, forced}, st, dl, pl, pr);
    return dnnl::convolution_forward::primitive_desc(d, attr, Engine());
  };

  // The whole convolution first, to learn the layouts oneDNN prefers on this CPU.
  const auto probe = make_pd(g.M, nullptr);
  // Blocks of output channels: about 2 per dense conv (each block re-reads the whole input, so
  // more blocks cost input reuse), 4 per depthwise one (its blocks share nothing). Their size
  // is a multiple of the channel block of the preferred layouts (16 for plain ones), so only the
  // last block of an odd channel count is padded; it depends on the shape and the CPU, never on
  // the thread count.
  int64_t unit = std::lcm(ChannelBlock(probe.src_desc()), ChannelBlock(probe.dst_desc()));
  unit = std::max<int64_t>(8, unit == 1 ? 16 : unit);
  // Dense blocks also keep their weights near 768 KiB (a core's L2 holds them while the block
  // streams the input), in at most 8 blocks: wav2vec2's 512 -> 512 1-D convs (3 MiB of weights)
  // in 4 blocks ran 16 % faster than in 2 (Zen 4, 1 MiB L2; 8 blocks the same as 4, 16 as slow
  // as 2: every block reads the whole input again).
  constexpr int64_t kBlockWeightBytes = 768 << 10;
  const int64_t wbytes = g.M * Cg * ks * (int64_t)sizeof(float);
  const int64_t nblk =
      e->grouped ? 4 : std::clamp<int64_t>((wbytes + kBlockWeightBytes - 1) / kBlockWeightBytes + 1, 2, 8) / 2 * 2;
  const int64_t ob = std::max<int64_t>(unit, RoundUp((g.M + nblk - 1) / nblk, unit));
  if (!e->grouped) {
    e->src_desc = probe.src_desc();
    e->src_reorder = !(e->src_desc == memory::desc({1, g.C, H, W}, kF32, Tag::nchw));
  }

  std::map<int64_t, int> prim_of_size;
  for (int64_t m0 = 0; m0 < g.M; m0 += ob) {
    Block b;
    b.m0 = m0;
    b.mb = std::min(ob, g.M - m0);
    auto it = prim_of_size.find(b.mb);
    if (it == prim_of_size.end()) {
      // Dense blocks all read the one reordered source, so its layout is fixed for all.
      auto pd = make_pd(b.mb, e->grouped ? nullptr : &e->src_desc);
      const memory::dims dst_d = {1, b.mb, OH, OW};
      prim_of_size[b.mb] = (int)e->pds.size();
      if (e->grouped) {
        // Input channels [m0, m0 + mb) are contiguous planes of the NCHW input.
        const memory::desc plain({1, b.mb, H, W}, kF32, Tag::nchw);
        const bool re = !(pd.src_desc() == plain);
        e->dw_in_reorder.push_back(re);
        e->dw_in_descs.push_back(plain);
        e->dw_in_reorders.push_back(re ? dnnl::reorder(dnnl::reorder::primitive_desc(Engine(), plain, Engine(),
                                                                                     pd.src_desc()))
                                       : dnnl::reorder());
      }
      // Destination -> channels [m0, m0 + mb) of the NCHW output (strided plain layout).
      const memory::desc ydesc(dst_d, kF32, memory::dims{g.M * OH * OW, OH * OW, OW, 1});
      const bool out_re = !(pd.dst_desc() == memory::desc(dst_d, kF32, Tag::nchw));
      e->out_reorder.push_back(out_re);
      e->out_descs.push_back(ydesc);
      e->out_reorders.push_back(
          out_re ? dnnl::reorder(dnnl::reorder::primitive_desc(Engine(), pd.dst_desc(), Engine(), ydesc))
                 : dnnl::reorder());
      e->prims.emplace_back(pd);
      e->pds.push_back(pd);
      e->scratch_bytes.push_back(pd.scratchpad_desc().get_size());
      it = prim_of_size.find(b.mb);
    }
    b.prim = it->second;
    const auto& pd = e->pds[(size_t)b.prim];
    memory::dims wei_d = e->grouped ? memory::dims{b.mb, 1, 1, g.k[1], g.k[2]}
                                      : memory::dims{b.mb, g.C, g.k[1], g.k[2]};
    memory usr({wei_d, kF32, e->grouped ? Tag::goihw : Tag::oihw}, Engine(),
               const_cast<float*>(e->wcopy.data() + m0 * Cg * ks));
    b.wei = memory(pd.weights_desc(), Engine());
    dnnl::stream s(Engine());
    dnnl::reorder(usr, b.wei).execute(s, usr, b.wei);
    s.wait();
    e->blocks.push_back(std::move(b));
  }
  if (e->src_reorder) {
    // Source reorder in up to 4 row chunks (sub-memories of the whole image in both layouts, so
    // any layout that does not block H works; a reorder is exact and zero-fills channel padding,
    // so the split does not affect results).
    const memory::desc plain({1, g.C, H, W}, kF32, Tag::nchw);
    const int64_t hc = (H + 3) / 4;
    for (int64_t h0 = 0; h0 < H; h0 += hc) {
      const memory::dims sub = {1, g.C, std::min(hc, H - h0), W}, off = {0, 0, h0, 0};
      InChunk ch;
      ch.from = plain.submemory_desc(sub, off);
      ch.to = e->src_desc.submemory_desc(sub, off);
      ch.re = dnnl::reorder(dnnl::reorder::primitive_desc(Engine(), ch.from, Engine(), ch.to));
      e->in_chunks.push_back(std::move(ch));
    }
  }
  if (e->pds.empty()) return e;
  const auto& pd0 = e->pds.front();
  e->info = std::string(pd0.impl_info_str()) + " src " + LayoutName(pd0.src_desc()) + " dst " +
            LayoutName(pd0.dst_desc()) + ", " + std::to_string(e->blocks.size()) + " block" +
            (e->blocks.size() == 1 ? "" : "s");
  e->supported = true;
  return e;
}

// ConvForwardOneDnnNhwc's entry: blocks of output rows x output channels and their primitives.
std::shared_ptr<Entry> BuildNhwc(const ConvGeom& g, const float* w, const Activation& act) {
  auto e = std::make_shared<Entry>();
  const int64_t Cg = g.C / g.G, ks = g.KSize();
  e->wcopy.assign(w, w + g.M * Cg * ks);
  e->grouped = g.G > 1;
  e->zero_bias.assign((size_t)g.M, 0.f);
  const int64_t H = g.in[1], W = g.in[2], OH = g.out[1], OW = g.out[2];
  dnnl::post_ops po = ActivationPostOps(act);
  if (act.HasEpilogue()) {
    e->epilogue_in_primitive = AppendEpiloguePostOps(*act.epilogue, &po);
    if (!e->epilogue_in_primitive) po = ActivationPostOps(act);
  }
  const dnnl::primitive_attr attr = MakeAttr(po);
  memory::dim pr_w = 0;
  if (!EndPad(W, OW, g.k[2], g.s[2], g.d[2], g.pb[2], &pr_w)) return e;
  // Blocks, fixed by the shape alone: about one per 1M multiply-adds (at least 2 from 256K), an
  // even count (at most 32), so that convs spread over the threads and small ones do not pay
  // per-block overhead (2M per block left SqueezeNet's and UltraFace's 1-3M multiply-add 1x1
  // convs on one thread: 1M is 3-5 % faster at 2 threads, 0-3 % slower at 1, on a Zen 5).
  // Rows first while each block keeps >= 128 output pixels (every block re-reads its weights;
  // grouped: 16), then output channels in multiples of 16 (>= 32 each; such a block computes
  // into a buffer of its own). 2M had been measured on SqueezeNet, ResNet-50 and YOLOX on the
  // Zen 4 host against 4M, 8M and 16M per block (docs/benchmarks.md): 2 threads 2-10 % faster,
  // 1 thread 1-4 % slower.
  const int64_t macs = OH * OW * g.M * Cg * ks;
  // At least 2 from 256K multiply-adds: MobileNetV3's and MnasNet's small convs (0.3-1M) ran on
  // one thread at 2 threads (MobileNetV3-small 2 threads 15 % faster, 1 thread 2 % slower).
  int64_t want = std::clamp<int64_t>(macs >> 20, macs >= (int64_t{1} << 18) ? 2 : 1, 32);
  if (want > 1) want = (want + 1) / 2 * 2;  // even: no idle thread at the end with 2 or 4
  auto even = [](int64_t v) { return v > 1 ? v / 2 * 2 : v; };
  // Grouped convs have no channel blocks (one block of all groups), so their rows split further
  // (>= 16 pixels a block): RegNet's 14x14 and 7x7 stages otherwise ran on one thread.
  const int64_t min_pixels = e->grouped ? 16 : 128;
  int64_t nr = even(std::clamp<int64_t>(std::min(want, OH * OW / min_pixels), 1, OH));
  const int64_t units = (g.M + 15) / 16;  // channel blocks are whole multiples of 16 channels
  int64_t nc = e->grouped ? 1 : even(std::clamp<int64_t>(want / nr, 1, std::max<int64_t>(1, g.M / 32)));
  // Weight-heavy convs (weights over 1 MiB and over the input's size) keep to 2 row blocks, and
  // split channels instead (at most 8 channel blocks): every row block reads its channels' weights again,
  // from memory once they pass the caches. FCN-ResNet50's head (3x3, 2048 -> 512 at 40x40, 38 MB
  // of weights) in 12 x 2 blocks took 358 ms, in 2 x 8 273 (ORT 275); the whole net 1093 -> 989 ms
  // at 1 thread, 569 -> 507 at 2 (Zen 4). Where it applies on the other scanned models (RT-DETR,
  // DPT, TextNet, AlexNet, MobileViT's segmentation head) the time is unchanged.
  const int64_t wbytes = g.M * Cg * ks * (int64_t)sizeof(float), xbytes = H * W * g.C * (int64_t)sizeof(float);
  if (!e->grouped && nr > 2 && wbytes > xbytes && wbytes > (int64_t{1} << 20)) {
    const int64_t nc2 = even(std::clamp<int64_t>(want / 2, 1, std::min<int64_t>(8, std::max<int64_t>(1, g.M / 32))));
    // Not where that leaves fewer than 8 blocks (and fewer than before) for the threads: few
    // output channels (3x3, 512 -> 64) keep their row blocks.
    if (2 * nc2 >= std::min<int64_t>(nr * nc, 8)) {
      nr = 2;
      nc = nc2;
    }
  }
  // Sizes balanced to within one row / 16 channels: a thread's share is then even too.
  std::vector<std::pair<int64_t, int64_t>> row_ranges, channel_ranges;
  for (int64_t r = 0; r < nr; ++r) row_ranges.push_back({r * OH / nr, (r + 1) * OH / nr});
  for (int64_t c = 0; c < nc; ++c)
    channel_ranges.push_back({nc == 1 ? 0 : c * units / nc * 16, nc == 1 ? g.M : std::min(g.M, (c + 1) * units / nc * 16)});
  const int64_t ext = (g.k[1] - 1) * g.d[1] + 1;
  struct WeightCopy {
    int64_t m0;
    memory::desc desc;
    memory mem;
  };
  std::vector<WeightCopy> weights;
  std::map<std::vector<int64_t>, int> prim_of;
  for (const auto& [oh0, oh1] : row_ranges) {
    for (const auto& [m0, m1] : channel_ranges) {
      if (oh1 <= oh0 || m1 <= m0) continue;
      Entry::RowBlock b;
      b.oh0 = oh0;
      b.oh1 = oh1;
      b.m0 = m0;
      b.mb = m1 - m0;
      const int64_t lo = oh0 * g.s[1] - g.pb[1], hi = (b.oh1 - 1) * g.s[1] - g.pb[1] + ext;
      const int64_t pt = std::max<int64_t>(0, -lo), pbot = std::max<int64_t>(0, hi - H);
      b.ih0 = std::max<int64_t>(lo, 0);
      const int64_t rin = std::min(hi, H) - b.ih0, rout = b.oh1 - b.oh0;
      if (rin <= 0) return e;
      // Grouped (depthwise: groups of one channel) as one block of all channels.
      const memory::dims wei_d = e->grouped ? memory::dims{g.G, g.M / g.G, Cg, g.k[1], g.k[2]}
                                              : memory::dims{b.mb, g.C, g.k[1], g.k[2]};
      const std::vector<int64_t> k = {rin, rout, pt, pbot, b.mb};
      auto it = prim_of.find(k);
      if (it == prim_of.end()) {
        dnnl::convolution_forward::desc d(
            dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
            memory::desc({1, g.C, rin, W}, kF32, Tag::nhwc), memory::desc(wei_d, kF32, Tag::any),
            memory::desc({b.mb}, kF32, Tag::x), memory::desc({1, b.mb, rout, OW}, kF32, Tag::nhwc),
            memory::dims{g.s[1], g.s[2]}, memory::dims{g.d[1] - 1, g.d[2] - 1}, memory::dims{pt, g.pb[2]},
            memory::dims{pbot, pr_w});
        dnnl::convolution_forward::primitive_desc pd(d, attr, Engine());
        // Not oneDNN's reference loops (far slower than declining), nor its gemm-based kernel
        // (AVX2: grouped and dilated convs): the channels-first kernels between two transposes
        // beat it (ResNeXt-50's grouped 3x3s: 93 -> 85 ms a forward; a 3x3 conv dilated 12,
        // 960 -> 256 channels at 20x20 in DeepLabV3: 36 -> 18 ms).
        const std::string impl = pd.impl_info_str();
        if (impl.rfind("ref", 0) == 0 || impl.find("gemm") != std::string::npos) return e;
        it = prim_of.emplace(k, (int)e->pds.size()).first;
        e->prims.emplace_back(pd);
        e->pds.push_back(pd);
        e->scratch_bytes.push_back(pd.scratchpad_desc().get_size());
      }
      b.prim = it->second;
      // The block's weights in its primitive's layout, shared by blocks of the same channels.
      const memory::desc& wd = e->pds[(size_t)b.prim].weights_desc();
      int wi = -1;
      for (size_t j = 0; j < weights.size(); ++j)
        if (weights[j].m0 == m0 && weights[j].desc == wd) wi = (int)j;
      if (wi < 0) {
        memory usr({wei_d, kF32, e->grouped ? Tag::goihw : Tag::oihw}, Engine(), e->wcopy.data() + m0 * Cg * ks);
        memory wm(wd, Engine());
        dnnl::stream s(Engine());
        dnnl::reorder(usr, wm).execute(s, usr, wm);
        s.wait();
        weights.push_back({m0, wd, wm});
        wi = (int)weights.size() - 1;
      }
      b.wei = weights[(size_t)wi].mem;
      e->rows.push_back(b);
    }
  }
  e->info = std::string(e->pds.front().impl_info_str()) + " src nhwc dst nhwc, " + std::to_string(nr) + "x" +
            std::to_string(nc) + " blocks";
  e->supported = true;
  return e;
}

// The channels-last path: 2-D, dense, depthwise or grouped (RegNet's, ResNeXt's).
bool ShapeHandled(const ConvGeom& g) {
  if (!Enabled() || ReferenceKernelsForced()) return false;
  // 2-D: depth 1 without a depth pad (a padded depth-1 window reads only padding).
  if (g.in[0] != 1 || g.out[0] != 1 || g.k[0] != 1 || g.pb[0] != 0) return false;
  if (g.C <= 0 || g.M <= 0 || g.G <= 0 || g.in[1] <= 0 || g.in[2] <= 0 || g.out[1] <= 0 || g.out[2] <= 0) return false;
  return g.G == 1 || (g.C % g.G == 0 && g.M % g.G == 0);
}

bool Handled(const ConvGeom& g) {
  // The channels-first path: 2-D only, not pointwise (1x1 stride 1 stays on OpenBLAS: no gain
  // there), dense or depthwise (its channel blocks are whole input planes).
  if (!ShapeHandled(g)) return false;
  if (g.G > 1 && !(g.G == g.C && g.G == g.M)) return false;
  if (ConvFewOutputsPreferred(g)) return false;  // kernels/conv.h's direct kernel
  return !(g.k[1] == 1 && g.k[2] == 1 && g.s[1] == 1 && g.s[2] == 1);
}

// What a caller's cache slot keeps: the entry of its conv and the key it was built for.
struct SlotEntry {
  Key key;
  std::shared_ptr<Entry> e;
};

std::shared_ptr<Entry> BuildCatching(const ConvGeom& g, const float* w, const Activation& act, bool nhwc,
                                     OneDnnLayout layout) {
  try {
    return nhwc ? BuildNhwc(g, w, act) : Build(g, w, act, layout);
  } catch (const dnnl::error&) {
    auto e = std::make_shared<Entry>();
    e->wcopy.assign(w, w + (size_t)(g.M * (g.C / g.G) * g.KSize()));
    return e;
  }
}

std::shared_ptr<Entry> Lookup(const ConvGeom& g, const float* w, const Activation& act, bool nhwc,
                              std::shared_ptr<void>* slot) {
  float fa[3] = {act.alpha, act.lo, act.hi};
  int32_t ia[3];
  std::memcpy(ia, fa, sizeof ia);
  const auto layout = (OneDnnLayout)g_layout.load();
  Key key = {(int64_t)(intptr_t)w, g.C, g.M, g.G, g.in[1], g.in[2], g.out[1], g.out[2], g.k[1], g.k[2],
             g.s[1], g.s[2], g.d[1], g.d[2], g.pb[1], g.pb[2], (int64_t)act.kind, ia[0], ia[1], ia[2],
             (int64_t)layout, (int64_t)nhwc};
  if (nhwc && act.HasEpilogue()) {  // the channels-last path may build the epilogue into the primitive
    for (const EpilogueStep& st : *act.epilogue) {
      int32_t ab[2];
      std::memcpy(ab, &st.a, 4);
      std::memcpy(ab + 1, &st.b, 4);
      key.insert(key.end(), {(int64_t)st.op, ab[0], ab[1], (int64_t)st.channel_c.size()});
    }
  }
  if (slot) {  // constant weights: the caller's own entry, no weight comparison, no kept copy
    if (*slot) {
      auto* se = static_cast<SlotEntry*>(slot->get());
      if (se->key == key) return se->e;
    }
    auto se = std::make_shared<SlotEntry>();
    se->key = key;
    se->e = BuildCatching(g, w, act, nhwc, layout);
    se->e->wcopy = std::vector<float>();
    *slot = se;
    return se->e;
  }
  const size_t wn = (size_t)(g.M * (g.C / g.G) * g.KSize());
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = g_cache->find(key);
  if (it != g_cache->end() && it->second->wcopy.size() == wn &&
      std::memcmp(it->second->wcopy.data(), w, wn * sizeof(float)) == 0) {
    return it->second;
  }
  std::shared_ptr<Entry> e = BuildCatching(g, w, act, nhwc, layout);
  if (g_cache->size() >= kMaxEntries) g_cache->clear();  // entries in use stay alive (shared_ptr)
  (*g_cache)[key] = e;
  return e;
}

}  // namespace

bool ConvForwardOneDnn(const ConvGeom& g, const float* x, const float* w, const float* bias, float* y,
                       ThreadPool* pool, const Activation& act, std::shared_ptr<void>* cache) {
  if (!Handled(g)) return false;
  // Before anything runs oneDNN code on this thread (also the weight reorders in Build): with
  // more than one OpenMP thread, libgomp would start a team whose idle workers spin.
  omp_set_num_threads(1);
  std::shared_ptr<Entry> e = Lookup(g, w, act, false, cache);
  if (!e->supported) return false;

  const int64_t HW = g.in[1] * g.in[2], OHW = g.out[1] * g.out[2];
  std::unique_ptr<float[]> xb(e->src_reorder ? new float[e->src_desc.get_size() / sizeof(float)] : nullptr);
  const float* b_all = bias ? bias : e->zero_bias.data();
  for (int64_t n = 0; n < g.N; ++n) {
    const float* xn = x + n * g.C * HW;
    float* yn = y + n * g.M * OHW;
    if (e->src_reorder) {
      ParallelOrSerial(pool, (int64_t)e->in_chunks.size(), [&](int64_t c0, int64_t c1) {
        omp_set_num_threads(1);
        thread_local dnnl::stream strm(Engine());
        for (int64_t ci = c0; ci < c1; ++ci) {
          const InChunk& ch = e->in_chunks[(size_t)ci];
          memory ms(ch.from, Engine(), const_cast<float*>(xn));
          memory md(ch.to, Engine(), xb.get());
          ch.re.execute(strm, ms, md);
          strm.wait();
        }
      });
    }
    const float* src_all = e->src_reorder ? xb.get() : xn;
    ParallelOrSerial(pool, (int64_t)e->blocks.size(), [&](int64_t b0, int64_t b1) {
      omp_set_num_threads(1);  // each primitive runs on this pool thread alone
      thread_local dnnl::stream strm(Engine());
      std::vector<float> xs, yb;
      for (int64_t bi = b0; bi < b1; ++bi) {
        const Block& b = e->blocks[(size_t)bi];
        const size_t p = (size_t)b.prim;
        const auto& pd = e->pds[p];
        const float* src = src_all;
        if (e->grouped) {
          // The block's input channels: contiguous planes of x, reordered when needed.
          src = xn + b.m0 * HW;
          if (e->dw_in_reorder[p]) {
            xs.resize(pd.src_desc().get_size() / sizeof(float));
            memory ms(e->dw_in_descs[p], Engine(), const_cast<float*>(src));
            memory md(pd.src_desc(), Engine(), xs.data());
            e->dw_in_reorders[p].execute(strm, ms, md);
            src = xs.data();
          }
        }
        float* dst = yn + b.m0 * OHW;  // a plain NCHW destination is written in place
        if (e->out_reorder[p]) {
          yb.resize(pd.dst_desc().get_size() / sizeof(float));
          dst = yb.data();
        }
        memory& mdst = ExecuteConv(*e, (int)p, strm, src, b.wei, b_all + b.m0, dst);
        if (e->out_reorder[p]) {
          memory my(e->out_descs[p], Engine(), yn + b.m0 * OHW);
          e->out_reorders[p].execute(strm, mdst, my);
        }
        strm.wait();
        if (act.HasEpilogue()) {
          ApplyEpilogueRows(*act.epilogue, yn + b.m0 * OHW, b.mb, OHW, OHW, b.m0);
        }
      }
    });
  }
  return true;
}

bool ConvOneDnnNhwcMayRun(const ConvGeom& g) { return ShapeHandled(g); }

bool ConvForwardOneDnnNhwc(const ConvGeom& g, const float* x, const float* w, const float* bias, float* y,
                           ThreadPool* pool, const Activation& act, std::shared_ptr<void>* cache,
                           const float* residual, Activation::Kind post) {
  if (!ShapeHandled(g)) return false;
  omp_set_num_threads(1);  // as in ConvForwardOneDnn
  std::shared_ptr<Entry> e = Lookup(g, w, act, true, cache);
  if (!e->supported) return false;
  const int64_t W = g.in[2], OW = g.out[2], nb = (int64_t)e->rows.size();
  const float* b_all = bias ? bias : e->zero_bias.data();
  ParallelOrSerial(pool, g.N * nb, [&](int64_t i0, int64_t i1) {
    omp_set_num_threads(1);
    thread_local dnnl::stream strm(Engine());
    std::vector<float> buf;
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t n = i / nb;
      const Entry::RowBlock& b = e->rows[(size_t)(i % nb)];
      const int64_t pixels = (b.oh1 - b.oh0) * OW;
      const float* src = x + ((n * g.in[1] + b.ih0) * W) * g.C;
      float* out = y + ((n * g.out[1] + b.oh0) * OW) * g.M;
      // A block of some of the channels computes into its own dense buffer (oneDNN 2.6 offers
      // only its reference kernel for a destination at the output's pixel stride).
      const bool part = b.mb != g.M;
      if (part) buf.resize((size_t)(pixels * b.mb));
      float* dst = part ? buf.data() : out;
      ExecuteConv(*e, b.prim, strm, src, b.wei, b_all + b.m0, dst);
      if (act.HasEpilogue() && !e->epilogue_in_primitive) ApplyEpilogueChannelsLast(*act.epilogue, dst, pixels, b.mb, b.m0);
      if (residual) {
        const float* res = residual + ((n * g.out[1] + b.oh0) * OW) * g.M + b.m0;
        if (part) AddResidual(dst, b.mb, res, g.M, pixels, b.mb, post);
        else AddResidual(dst, 0, res, 0, 1, pixels * g.M, post);
      }
      if (part) {
        for (int64_t p = 0; p < pixels; ++p)
          std::memcpy(out + p * g.M + b.m0, dst + p * b.mb, (size_t)b.mb * sizeof(float));
      }
    }
  });
  return true;
}

std::string DescribeConvOneDnn(const ConvGeom& g, const float* w, const Activation& act) {
  if (!Handled(g)) return "";
  omp_set_num_threads(1);
  std::shared_ptr<Entry> e = Lookup(g, w, act, false, nullptr);
  return e->supported ? e->info : "";
}

void SetConvOneDnnLayoutForTesting(OneDnnLayout layout) {
  g_layout.store((int)layout);
  std::lock_guard<std::mutex> lock(g_mu);
  g_cache->clear();
}

}  // namespace kernels
}  // namespace dopt
