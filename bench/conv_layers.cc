// Per-layer Conv micro-benchmark: dopt's im2col + OpenBLAS path (kernels::ConvForward) vs
// oneDNN 2.6 (libdnnl, OpenMP runtime) on the Conv shapes of SqueezeNet 1.0 and UltraFace RFB.
//
// Build: cmake -S . -B build -DDOPT_BUILD_BENCH=ON && ninja -C build conv_layers
// Run:   OMP_WAIT_POLICY=passive ./build/bench/conv_layers [threads] [repeat]
//
// For each layer (all with a fused Relu), it prints the minimum time over `repeat` runs of:
//   dopt     kernels::ConvForward (NCHW in/out), dopt's ThreadPool with `threads` threads
//   dopt_dnnl kernels::ConvForwardOneDnn (what Conv now runs; -1 where it declines, then the
//            total counts the dopt time)
//   dnnl_nchw oneDNN convolution with NCHW source/destination, weights in the layout
//            oneDNN picks (reordered once, outside the timing), Relu as an eltwise post-op
//   dnnl_blk oneDNN convolution with src/dst in the layout it picks (blocked nChw8c), plus
//            the reorders NCHW -> blocked -> NCHW timed in (what a per-op use would pay)
//   dnnl_core the blocked convolution alone (what a whole-graph blocked layout would pay)
// and the implementation names oneDNN chose, and whether dnnl's NCHW result is bit-identical
// across 1 and `threads` OpenMP threads.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "dnnl.hpp"
#include "kernels/conv.h"
#include "kernels/conv_onednn.h"

namespace {

using namespace dnnl;
using Clock = std::chrono::steady_clock;

struct Layer {
  const char* model;
  int C, H, W, M, K, S, P, D, G;
};

// {model, C, H, W, M, k, stride, pad, dilation, group}
const Layer kLayers[] = {
    {"squeezenet", 3, 224, 224, 64, 3, 2, 0, 1, 1},  {"squeezenet", 64, 55, 55, 16, 1, 1, 0, 1, 1},
    {"squeezenet", 16, 55, 55, 64, 1, 1, 0, 1, 1},   {"squeezenet", 16, 55, 55, 64, 3, 1, 1, 1, 1},
    {"squeezenet", 128, 55, 55, 16, 1, 1, 0, 1, 1},  {"squeezenet", 128, 27, 27, 32, 1, 1, 0, 1, 1},
    {"squeezenet", 32, 27, 27, 128, 1, 1, 0, 1, 1},  {"squeezenet", 32, 27, 27, 128, 3, 1, 1, 1, 1},
    {"squeezenet", 256, 27, 27, 32, 1, 1, 0, 1, 1},  {"squeezenet", 256, 13, 13, 48, 1, 1, 0, 1, 1},
    {"squeezenet", 48, 13, 13, 192, 1, 1, 0, 1, 1},  {"squeezenet", 48, 13, 13, 192, 3, 1, 1, 1, 1},
    {"squeezenet", 384, 13, 13, 48, 1, 1, 0, 1, 1},  {"squeezenet", 384, 13, 13, 64, 1, 1, 0, 1, 1},
    {"squeezenet", 64, 13, 13, 256, 1, 1, 0, 1, 1},  {"squeezenet", 64, 13, 13, 256, 3, 1, 1, 1, 1},
    {"squeezenet", 512, 13, 13, 64, 1, 1, 0, 1, 1},  {"squeezenet", 512, 13, 13, 1000, 1, 1, 0, 1, 1},
    {"ultraface", 3, 240, 320, 16, 3, 2, 1, 1, 1},   {"ultraface", 16, 120, 160, 16, 3, 1, 1, 1, 16},
    {"ultraface", 16, 120, 160, 32, 1, 1, 0, 1, 1},  {"ultraface", 32, 120, 160, 32, 3, 2, 1, 1, 32},
    {"ultraface", 32, 60, 80, 32, 1, 1, 0, 1, 1},    {"ultraface", 32, 60, 80, 32, 3, 1, 1, 1, 32},
    {"ultraface", 32, 30, 40, 64, 1, 1, 0, 1, 1},    {"ultraface", 64, 30, 40, 64, 3, 1, 1, 1, 64},
    {"ultraface", 64, 30, 40, 64, 1, 1, 0, 1, 1},    {"ultraface", 64, 30, 40, 8, 1, 1, 0, 1, 1},
    {"ultraface", 8, 30, 40, 16, 3, 1, 1, 1, 1},     {"ultraface", 16, 30, 40, 16, 3, 1, 2, 2, 1},
    {"ultraface", 48, 30, 40, 64, 1, 1, 0, 1, 1},    {"ultraface", 64, 15, 20, 128, 1, 1, 0, 1, 1},
    {"ultraface", 128, 15, 20, 128, 3, 1, 1, 1, 128}, {"ultraface", 128, 15, 20, 128, 1, 1, 0, 1, 1},
    {"ultraface", 128, 8, 10, 256, 1, 1, 0, 1, 1},   {"ultraface", 256, 8, 10, 256, 1, 1, 0, 1, 1},
    {"ultraface", 256, 4, 5, 12, 3, 1, 1, 1, 1},
};

template <typename F>
double MinMs(int repeat, F f) {
  f();
  double best = 1e30;
  for (int r = 0; r < repeat; ++r) {
    auto t0 = Clock::now();
    f();
    best = std::min(best, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  const int repeat = argc > 2 ? std::atoi(argv[2]) : 20;
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  std::unique_ptr<dopt::ThreadPool> pool(threads > 1 ? new dopt::ThreadPool(threads) : nullptr);
  std::printf("threads=%d repeat=%d (min ms)\n", threads, repeat);
  std::printf("%-10s %-28s %8s %9s %9s %8s %9s %6s %6s  %s\n", "model", "layer", "dopt", "dopt_dnnl", "dnnl_nchw", "dnnl_blk",
              "dnnl_core", "nchw/d", "blk/d", "impl nchw | blocked | same-1-vs-T | maxdiff");
  double tot[5] = {0, 0, 0, 0, 0};
  for (const Layer& L : kLayers) {
    const int O = (L.H + 2 * L.P - L.D * (L.K - 1) - 1) / L.S + 1;
    const int OW = (L.W + 2 * L.P - L.D * (L.K - 1) - 1) / L.S + 1;
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    std::vector<float> x((size_t)L.C * L.H * L.W), w((size_t)L.M * (L.C / L.G) * L.K * L.K), b((size_t)L.M);
    for (float& v : x) v = u(rng);
    for (float& v : w) v = u(rng) * 0.1f;
    for (float& v : b) v = u(rng);
    std::vector<float> yd((size_t)L.M * O * OW), yn(yd.size()), yn1(yd.size()), yb(yd.size());

    dopt::kernels::ConvGeom g;
    g.C = L.C; g.M = L.M; g.G = L.G;
    g.SetSpatial({L.H, L.W}, {O, OW}, {L.K, L.K}, {L.S, L.S}, {L.D, L.D}, {L.P, L.P});
    dopt::kernels::Activation act;
    act.kind = dopt::kernels::Activation::kRelu;
    const double t_dopt = MinMs(repeat, [&] {
      dopt::kernels::ConvForward(g, x.data(), w.data(), b.data(), yd.data(), pool.get(), act);
    });

    std::vector<float> yo(yd.size());
    double t_ours = -1;
    if (dopt::kernels::ConvForwardOneDnn(g, x.data(), w.data(), b.data(), yo.data(), pool.get(), act)) {
      t_ours = MinMs(repeat, [&] {
        dopt::kernels::ConvForwardOneDnn(g, x.data(), w.data(), b.data(), yo.data(), pool.get(), act);
      });
    }
    tot[4] += t_ours > 0 ? t_ours : t_dopt;
    memory::dims src_d = {1, L.C, L.H, L.W}, dst_d = {1, L.M, O, OW}, bia_d = {L.M};
    memory::dims wei_d = L.G == 1 ? memory::dims{L.M, L.C, L.K, L.K}
                                  : memory::dims{L.G, L.M / L.G, L.C / L.G, L.K, L.K};
    const auto wtag = L.G == 1 ? memory::format_tag::oihw : memory::format_tag::goihw;
    memory::dims st = {L.S, L.S}, dl = {L.D - 1, L.D - 1}, pd = {L.P, L.P};
    const auto f32 = memory::data_type::f32;
    primitive_attr attr;
    post_ops po;
    po.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(po);
    memory usr_src({src_d, f32, memory::format_tag::nchw}, eng, x.data());
    memory usr_wei({wei_d, f32, wtag}, eng, w.data());
    memory usr_bia({bia_d, f32, memory::format_tag::x}, eng, b.data());

    auto make = [&](memory::format_tag act_tag) {
      convolution_forward::desc d(prop_kind::forward_inference, algorithm::convolution_direct,
                                  {src_d, f32, act_tag}, {wei_d, f32, memory::format_tag::any},
                                  {bia_d, f32, memory::format_tag::x}, {dst_d, f32, act_tag}, st, dl, pd, pd);
      return convolution_forward::primitive_desc(d, attr, eng);
    };
    // NCHW at the boundary.
    auto pdn = make(memory::format_tag::nchw);
    memory wn(pdn.weights_desc(), eng);
    reorder(usr_wei, wn).execute(strm, usr_wei, wn);
    convolution_forward cn(pdn);
    auto run_nchw = [&](float* out) {
      memory dst({dst_d, f32, memory::format_tag::nchw}, eng, out);
      cn.execute(strm, {{DNNL_ARG_SRC, usr_src}, {DNNL_ARG_WEIGHTS, wn}, {DNNL_ARG_BIAS, usr_bia}, {DNNL_ARG_DST, dst}});
      strm.wait();
    };
    omp_set_num_threads(threads);
    const double t_nchw = MinMs(repeat, [&] { run_nchw(yn.data()); });
    omp_set_num_threads(1);
    run_nchw(yn1.data());
    omp_set_num_threads(threads);
    const bool same = std::memcmp(yn.data(), yn1.data(), yn.size() * sizeof(float)) == 0;

    // Blocked (layout any) with reorders in and out.
    auto pdb = make(memory::format_tag::any);
    memory wb(pdb.weights_desc(), eng);
    reorder(usr_wei, wb).execute(strm, usr_wei, wb);
    convolution_forward cb(pdb);
    memory bsrc(pdb.src_desc(), eng), bdst(pdb.dst_desc(), eng);
    memory usr_dst({dst_d, f32, memory::format_tag::nchw}, eng, yb.data());
    const bool src_re = pdb.src_desc() != usr_src.get_desc(), dst_re = pdb.dst_desc() != usr_dst.get_desc();
    reorder rin(usr_src, bsrc), rout(bdst, usr_dst);
    auto core = [&] {
      cb.execute(strm, {{DNNL_ARG_SRC, src_re ? bsrc : usr_src}, {DNNL_ARG_WEIGHTS, wb}, {DNNL_ARG_BIAS, usr_bia},
                        {DNNL_ARG_DST, dst_re ? bdst : usr_dst}});
    };
    const double t_blk = MinMs(repeat, [&] {
      if (src_re) rin.execute(strm, usr_src, bsrc);
      core();
      if (dst_re) rout.execute(strm, bdst, usr_dst);
      strm.wait();
    });
    const double t_core = MinMs(repeat, [&] { core(); strm.wait(); });
    float maxdiff = 0.f;
    for (size_t i = 0; i < yd.size(); ++i) maxdiff = std::max(maxdiff, std::fabs(yd[i] - yn[i]));
    char name[64];
    std::snprintf(name, sizeof name, "%dx%dx%d->%d k%d s%d d%d g%d", L.C, L.H, L.W, L.M, L.K, L.S, L.D, L.G);
    std::printf("%-10s %-28s %8.3f %9.3f %9.3f %8.3f %9.3f %6.2f %6.2f  %s | %s | %s | %.1e\n", L.model, name, t_dopt,
                t_ours, t_nchw, t_blk, t_core, t_nchw / t_dopt, t_blk / t_dopt, pdn.impl_info_str(), pdb.impl_info_str(),
                same ? "same" : "DIFF", maxdiff);
    tot[0] += t_dopt; tot[1] += t_nchw; tot[2] += t_blk; tot[3] += t_core;
  }
  std::printf("%-10s %-28s %8.3f %9.3f %9.3f %8.3f %9.3f\n", "total", "(one of each listed shape)", tot[0], tot[4],
              tot[1], tot[2], tot[3]);
  return 0;
}
