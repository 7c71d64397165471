// Conv against a naive loop over a sweep of shapes (odd and prime sizes, strides, pads,
// groups incl. depthwise, dilations, auto_pad, 1-D/2-D/3-D), plus error cases.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "check_op.h"
#include "kernels/conv.h"
#include "common/kernel_options.h"
#include "executor/executor.h"
#include "ir/graph_edit.h"
#include "ops/shape_inference.h"

namespace dopt {
namespace {

using namespace optest;

struct Case {
  int64_t N, C, M, G;
  std::vector<int64_t> in, k, s, d, pads;
  bool bias;
  std::string auto_pad = "NOTSET";
};

// Reference: direct loops over 3-D geometry (1-D/2-D padded with leading 1s).
// Output dims from the ONNX formulas (independent of the op's shape rule).
Shape RefOutShape(const Case& c) {
  Shape y = {c.N, c.M};
  const size_t ns = c.in.size();
  for (size_t i = 0; i < ns; ++i) {
    const int64_t span = (c.k[i] - 1) * c.d[i] + 1;
    if (c.auto_pad == "SAME_UPPER" || c.auto_pad == "SAME_LOWER") y.push_back((c.in[i] + c.s[i] - 1) / c.s[i]);
    else if (c.auto_pad == "VALID") y.push_back((c.in[i] - span) / c.s[i] + 1);
    else y.push_back((c.in[i] + c.pads[i] + c.pads[ns + i] - span) / c.s[i] + 1);
  }
  return y;
}

std::vector<float> RefConv(const Case& c, const Tensor& x, const Tensor& w, const Tensor* b, const Shape& yshape) {
  const int ns = (int)c.in.size(), off = 3 - ns;
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, d[3] = {1, 1, 1}, p[3] = {0, 0, 0};
  for (int i = 0; i < ns; ++i) {
    in[off + i] = c.in[i];
    out[off + i] = yshape[2 + i];
    k[off + i] = c.k[i];
    s[off + i] = c.s[i];
    d[off + i] = c.d[i];
    p[off + i] = c.pads[i];
  }
  if (c.auto_pad == "SAME_UPPER" || c.auto_pad == "SAME_LOWER") {
    for (int i = 0; i < 3; ++i) {
      int64_t total = std::max<int64_t>(0, (out[i] - 1) * s[i] + (k[i] - 1) * d[i] + 1 - in[i]);
      p[i] = c.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    }
  }
  const int64_t Cg = c.C / c.G, Mg = c.M / c.G;
  std::vector<float> y;
  for (int64_t n = 0; n < c.N; ++n)
    for (int64_t m = 0; m < c.M; ++m)
      for (int64_t od = 0; od < out[0]; ++od)
        for (int64_t oh = 0; oh < out[1]; ++oh)
          for (int64_t ow = 0; ow < out[2]; ++ow) {
            double acc = b ? b->data<float>()[m] : 0.0;
            const int64_t g = m / Mg;
            for (int64_t cc = 0; cc < Cg; ++cc)
              for (int64_t kd = 0; kd < k[0]; ++kd)
                for (int64_t kh = 0; kh < k[1]; ++kh)
                  for (int64_t kw = 0; kw < k[2]; ++kw) {
                    int64_t id = od * s[0] - p[0] + kd * d[0], ih = oh * s[1] - p[1] + kh * d[1],
                            iw = ow * s[2] - p[2] + kw * d[2];
                    if (id < 0 || id >= in[0] || ih < 0 || ih >= in[1] || iw < 0 || iw >= in[2]) continue;
                    const int64_t ci = g * Cg + cc;
                    acc += (double)x.data<float>()[(((n * c.C + ci) * in[0] + id) * in[1] + ih) * in[2] + iw] *
                           w.data<float>()[(((m * Cg + cc) * k[0] + kd) * k[1] + kh) * k[2] + kw];
                  }
            y.push_back((float)acc);
          }
  return y;
}

std::string Describe(const Case& c) {
  return "N=" + std::to_string(c.N) + " C=" + std::to_string(c.C) + " M=" + std::to_string(c.M) +
         " G=" + std::to_string(c.G) + " in=" + ShapeToString(c.in) + " k=" + ShapeToString(c.k) +
         " s=" + ShapeToString(c.s) + " d=" + ShapeToString(c.d) + " pads=" + ShapeToString(c.pads) + " " + c.auto_pad +
         (c.bias ? " bias" : "");
}

// The case through CheckOp against RefConv. `tol` (per K = C/G * prod(k)) bounds |y - ref| by
// tol * K * max|x| * max|w| (XNNPACK's budget); by default the sweep's own Near(2e-6 * K + 1e-5).
void RunCase(const Case& c, uint32_t seed, std::vector<int> threads, double tol = 0) {
  Shape xs = {c.N, c.C}, ws = {c.M, c.C / c.G};
  xs.insert(xs.end(), c.in.begin(), c.in.end());
  ws.insert(ws.end(), c.k.begin(), c.k.end());
  Tensor x = Random(xs, seed), w = Random(ws, seed + 1), b = Random({c.M}, seed + 2);
  OpCase oc = OpCase("Conv").Attr("group", IntAttr(c.G)).Attr("strides", IntsAttr(c.s)).Attr("dilations", IntsAttr(c.d));
  if (c.auto_pad == "NOTSET") oc.Attr("pads", IntsAttr(c.pads));
  else oc.Attr("auto_pad", StringAttr(c.auto_pad));
  if (seed % 2) oc.Attr("kernel_shape", IntsAttr(c.k));
  oc.Inputs({x, w});
  if (c.bias) oc.Input(b);
  int64_t K = c.C / c.G;
  for (int64_t kk : c.k) K *= kk;
  auto ref = [&c](const std::vector<Tensor>& in) {
    const Shape ys = RefOutShape(c);
    return std::vector<Tensor>{Tensor::FromFloats(ys, RefConv(c, in[0], in[1], c.bias ? &in[2] : nullptr, ys))};
  };
  const Tol budget = tol > 0 ? Tol::Abs(tol * (double)K * MaxAbs(x) * MaxAbs(w) + 1e-6) : Tol::Near(2e-6 * (double)K + 1e-5);
  std::vector<Tensor> y;
  ASSERT_TRUE(CheckOp(oc.Reference(ref, budget).Threads(std::move(threads)).Label(Describe(c)), &y));
  ASSERT_EQ(y[0].shape(), RefOutShape(c)) << Describe(c);
}

TEST(ConvOp, SweepMatchesNaiveLoop) {
  std::vector<Case> cases;
  for (int64_t sz : {1, 5, 7, 13})
    for (int64_t k : {1, 3})
      for (int64_t s : {1, 2})
        for (int64_t p : {0, 1})
          for (int64_t g : {1, 2}) {
            if (k + 0 > sz + 2 * p) continue;
            cases.push_back({2, 2 * g, 3 * g, g, {sz, sz + 2}, {k, k}, {s, s}, {1, 1}, {p, p, p, p}, (sz % 2) == 1});
          }
  // Depthwise (with and without multiplier), dilations, asymmetric pads, 1-D, 3-D, auto_pad.
  cases.push_back({1, 5, 5, 5, {11, 9}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, true});
  cases.push_back({2, 6, 6, 6, {17, 8}, {3, 3}, {2, 2}, {1, 1}, {1, 0, 1, 2}, true});
  cases.push_back({1, 4, 4, 4, {9, 9}, {5, 3}, {1, 3}, {2, 1}, {2, 1, 2, 1}, false});
  cases.push_back({1, 3, 6, 3, {7, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, true});
  cases.push_back({1, 3, 4, 1, {11, 10}, {3, 2}, {2, 1}, {2, 3}, {0, 2, 1, 0}, true});
  cases.push_back({2, 3, 5, 1, {23}, {4}, {3}, {2}, {2, 1}, true});
  cases.push_back({1, 2, 3, 1, {5, 4, 6}, {3, 2, 3}, {1, 2, 1}, {1, 1, 2}, {1, 0, 1, 1, 1, 0}, true});
  cases.push_back({1, 3, 4, 1, {7, 8}, {3, 3}, {2, 2}, {1, 1}, {0, 0, 0, 0}, true, "SAME_UPPER"});
  cases.push_back({1, 3, 4, 1, {7, 8}, {4, 4}, {2, 3}, {1, 1}, {0, 0, 0, 0}, true, "SAME_LOWER"});
  cases.push_back({1, 3, 4, 1, {7, 8}, {3, 2}, {2, 2}, {1, 1}, {0, 0, 0, 0}, true, "VALID"});
  cases.push_back({1, 64, 32, 1, {37, 41}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, true});  // several im2col blocks
  cases.push_back({1, 48, 40, 1, {29, 31}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, true});  // pointwise path
  // Pointwise, two images and two blocks of output channels (48 + 32) on AVX-512 (kernels/conv.cc
  // PointwiseDense), without bias.
  cases.push_back({2, 24, 80, 1, {9, 11}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, false});
  // Grouped pointwise (SqueezeBERT's 1-D convs): per group, 2 blocks of 48 + 32 rows.
  cases.push_back({1, 32, 320, 4, {37}, {1}, {1}, {1}, {0, 0}, true});
  // Depthwise with 32+ channels outside a channels-last region (ops/conv.cc: oneDNN's channels-last
  // kernel between two transposes): two images, strides, asymmetric pads, dilation.
  cases.push_back({2, 48, 48, 48, {13, 11}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, true});
  cases.push_back({1, 40, 40, 40, {9, 10}, {5, 5}, {2, 2}, {1, 1}, {2, 1, 2, 1}, false});
  cases.push_back({1, 64, 64, 64, {12, 12}, {3, 3}, {1, 1}, {2, 2}, {2, 2, 2, 2}, true});
  // One input pixel to one output pixel through a 1x1 window (SE blocks), and the same with a
  // begin pad and a stride past it: the one output then reads only padding.
  cases.push_back({1, 40, 600, 1, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, true});
  cases.push_back({1, 40, 24, 1, {1, 1}, {1, 1}, {3, 3}, {1, 1}, {1, 1, 0, 0}, true});
  cases.push_back({1, 40, 24, 1, {1, 1}, {1, 1}, {2, 2}, {1, 1}, {1, 0, 0, 0}, false});
  // A 1-D conv with 1.6 MiB of weights (wav2vec2's feature extractor, smaller): 4 blocks of output
  // channels, the last one short (80 + 80 + 80 + 32 with 16-channel layouts; kernels/conv_onednn.cc).
  cases.push_back({1, 512, 272, 1, {41}, {3}, {2}, {1}, {0, 0}, true});
  uint32_t seed = 1;
  for (const Case& c : cases) {
    RunCase(c, seed, {2, 3});
    seed += 3;
  }
}

// Channel counts around the kernels' block sizes (1, 3, 7, 8, 9, 15, 16, 17), strides, groups and
// depthwise convolutions (multiplier 1 and 2), in the style of XNNPACK's testers: every case
// against RefConv within eps * K * max|x| * max|w|.
TEST(ConvOp, ChannelEdgeSweep) {
  const int64_t channels[] = {1, 3, 7, 8, 9, 15, 16, 17};
  std::vector<Case> cases;
  for (int64_t C : channels)
    for (int64_t M : channels)
      for (int64_t k : {1, 3})
        for (int64_t s : {1, 2})
          cases.push_back({1, C, M, 1, {7, 9}, {k, k}, {s, s}, {1, 1}, {k / 2, k / 2, k / 2, k / 2}, (C + M) % 2 == 0});
  for (int64_t C : channels)
    for (int64_t mult : {1, 2})
      for (int64_t s : {1, 2})
        cases.push_back({1, C, C * mult, C, {9, 8}, {3, 3}, {s, s}, {1, 1}, {1, 1, 1, 1}, s == 1});
  for (int64_t G : {2, 4})
    for (int64_t Cg : {1, 3, 4})
      for (int64_t Mg : {1, 2, 5})
        cases.push_back({2, G * Cg, G * Mg, G, {6, 7}, {3, 3}, {1, 2}, {1, 1}, {1, 1, 1, 1}, true});
  uint32_t seed = 1000;
  for (const Case& c : cases) {
    RunCase(c, seed, {}, 1e-6);
    seed += 3;
  }
}

// One and two output channels on rows of 64 and more outputs (kernels/conv.cc's direct kernel
// for prediction heads): row lengths around its vector blocks (64, 65, 79, 100, 130 outputs), kernel
// widths 1-7 with pads that leave edges on one or both sides, dilations, kernels of one row or
// column, stride 2 down the rows, two images; against RefConv.
TEST(ConvOp, FewOutputChannelsSweep) {
  std::vector<Case> cases;
  uint32_t v = 0;
  for (int64_t M : {1, 2})
    for (int64_t W : {64, 65, 79, 100, 130})
      for (int64_t k : {1, 3, 5})
        for (int64_t p : {0, 1, 2}) {
          if (2 * p > k + 1 || (k == 1 && p > 0)) continue;
          ++v;
          const int64_t kh = v % 3 == 0 ? 1 : k, sh = v % 4 == 0 ? 2 : 1, dw = v % 5 == 0 ? 2 : 1;
          const int64_t ow = (W + 2 * p - (k - 1) * dw - 1) + 1;
          if (ow < 64) continue;
          cases.push_back({v % 2 ? 2 : 1, v % 3 == 1 ? 3 : 16, M, 1, {6, W}, {kh, k}, {sh, 1}, {1, dw},
                           {kh / 2, p, kh / 2, v % 6 == 0 ? 0 : p}, v % 2 == 0});
        }
  cases.push_back({1, 8, 1, 1, {5, 80}, {3, 7}, {1, 1}, {1, 1}, {1, 3, 1, 3}, true});
  cases.push_back({1, 8, 2, 1, {5, 90}, {1, 9}, {1, 1}, {1, 1}, {0, 0, 0, 4}, true});  // end pad only
  // 3-D with one input depth and a depth pad before it: the one output depth reads only padding
  // (the bias alone): no 2-D kernel may take it; the same for a depthwise conv.
  cases.push_back({1, 8, 1, 1, {1, 5, 70}, {1, 3, 3}, {2, 1, 1}, {1, 1, 1}, {1, 1, 1, 0, 1, 1}, true});
  cases.push_back({1, 40, 40, 40, {1, 5, 9}, {1, 3, 3}, {2, 1, 1}, {1, 1, 1}, {1, 1, 1, 0, 1, 1}, true});
  ASSERT_GT(cases.size(), 20u);
  uint32_t seed = 3000;
  for (const Case& c : cases) {
    RunCase(c, seed, {2, 3}, 1e-6);
    seed += 3;
  }
}

// The case of the old thread test: one convolution big enough to be split, on 1 (no pool), 2
// and 3 threads, bit-identical (CheckOp's thread check).
TEST(ConvOp, ResultsDoNotDependOnThreadCount) {
  Tensor x = Random({1, 32, 45, 47}, 3), w = Random({24, 32, 3, 3}, 4);
  std::vector<Tensor> y;
  ASSERT_TRUE(CheckOp(OpCase("Conv").Attr("pads", IntsAttr({1, 1, 1, 1})).Inputs({x, w}).Threads({2, 3}), &y));
  EXPECT_EQ(y[0].shape(), (Shape{1, 24, 45, 47}));
}

// One run of graph g (input "x" = xv) through an executor; returns output `out`.
Tensor RunGraph(const Graph& g, const Tensor& xv, const std::string& out, bool optimize, bool channels_last,
                int threads) {
  ExecutorOptions o;
  o.optimize = optimize;
  o.channels_last = channels_last;
  o.num_threads = threads;
  auto ex = Executor::Create(g, o);
  EXPECT_TRUE(ex.ok());
  std::map<std::string, Tensor> outs;
  EXPECT_TRUE((*ex)->Run({{"x", xv}}, &outs).ok());
  return outs.at(out);
}

// Kernel taps that read only padding for every output (DeepLabV3's ASPP: 3x3 convs dilated 24
// and 36 on a 20x20 map) are left out: the conv runs on its live taps (ops/conv.cc LiveTaps).
// Through the executor with constant weights (where the cropped weights are kept): the naive
// loop's values, the same as with the reference kernels, and the same bits at 1 and 3 threads.
TEST(ConvOp, EdgeTapsThatReadOnlyPaddingAreLeftOut) {
  const bool forced = ReferenceKernelsForced();
  std::vector<Case> cases = {
      {1, 8, 6, 1, {5, 5}, {3, 3}, {1, 1}, {6, 6}, {6, 6, 6, 6}, true},     // only the centre tap
      {1, 4, 5, 1, {6, 3}, {3, 3}, {1, 1}, {4, 4}, {4, 4, 4, 4}, true},     // W: the centre, H: all
      {2, 6, 4, 2, {4, 4}, {5, 5}, {2, 2}, {3, 3}, {6, 6, 6, 6}, false},    // strided, grouped
      {1, 3, 4, 1, {5, 9}, {3, 3}, {1, 1}, {5, 1}, {5, 1, 5, 1}, true},     // asymmetric: H trims
      {1, 3, 2, 1, {5}, {3}, {1}, {8}, {8, 8}, true},                       // 1-D
      {1, 16, 16, 16, {6, 6}, {3, 3}, {1, 1}, {7, 7}, {7, 7, 7, 7}, true},  // depthwise
  };
  uint32_t seed = 500;
  for (const Case& c : cases) {
    Graph g;
    Shape xs = {c.N, c.C}, ws = {c.M, c.C / c.G};
    xs.insert(xs.end(), c.in.begin(), c.in.end());
    ws.insert(ws.end(), c.k.begin(), c.k.end());
    const Tensor x = Random(xs, seed);
    Tensor w = Random(ws, seed + 1);
    const Tensor b = Random({c.M}, seed + 2);
    seed += 3;
    // The first and the 1-D case keep only their centre tap: NaN weights elsewhere never enter
    // (the taps are left out, not multiplied by padding zeros). Not under forced reference
    // kernels (DOPT_REFERENCE_KERNELS=1): they compute every tap.
    const bool centre_only = !forced && (&c == &cases[0] || &c == &cases[4]);
    if (centre_only) {
      const int64_t taps = w.numel() / (c.M * (c.C / c.G)), centre = taps / 2;
      for (int64_t i = 0; i < w.numel(); ++i)
        if (i % taps != centre) w.data<float>()[i] = NAN;
    }
    const int xi = AddTestInput(g, "x", DType::kFloat32, xs);
    std::vector<int> ins = {xi, AddTestValue(g, "w", w)};
    if (c.bias) ins.push_back(AddTestValue(g, "b", b));
    const int y = AddTestValue(g, "y");
    g.AddNode(MakeNode("Conv", "conv", ins, {y},
                       {{"group", IntAttr(c.G)}, {"strides", IntsAttr(c.s)}, {"dilations", IntsAttr(c.d)},
                        {"pads", IntsAttr(c.pads)}},
                       17));
    g.outputs = {y};
    ASSERT_TRUE(PrepareGraph(g).ok()) << Describe(c);
    const Shape ys = RefOutShape(c);
    const std::vector<float> want = RefConv(c, x, w, c.bias ? &b : nullptr, ys);
    auto run = [&](int threads) { return RunGraph(g, x, "y", false, true, threads); };
    const Tensor one = run(1), three = run(3);
    SetReferenceKernelsForced(true);
    const Tensor ref = run(1);
    SetReferenceKernelsForced(forced);
    ASSERT_EQ(one.shape(), ys) << Describe(c);
    EXPECT_EQ(0, std::memcmp(one.raw(), three.raw(), one.nbytes())) << Describe(c);
    double worst = 0, spread = 0;
    for (int64_t i = 0; i < one.numel(); ++i) {
      worst = std::max(worst, (double)std::fabs(one.data<float>()[i] - want[(size_t)i]));
      worst = std::max(worst, (double)std::fabs(ref.data<float>()[i] - want[(size_t)i]));
      spread = std::max(spread, (double)std::fabs(want[(size_t)i] - want[0]));
    }
    EXPECT_LT(worst, 1e-4) << Describe(c);  // NaN compares false: checked finite below
    EXPECT_GT(spread, 0.1) << Describe(c);  // the live taps do contribute
    if (centre_only) {
      for (int64_t i = 0; i < one.numel(); ++i) ASSERT_TRUE(std::isfinite(one.data<float>()[i])) << Describe(c);
    }
  }
}

// Convs from one input pixel to one output pixel through a 1x1 window (SE blocks' squeeze and
// excite convs after a global pool): a 1x1 conv
// of 70 -> 600 channels (three blocks of outputs, a K tail) with bias and a fused Relu, then a
// 3x3 conv padded 1 whose only live tap is the centre (NaN elsewhere) with a HardSigmoid
// epilogue, with and without the optimizing passes, plain and forced reference kernels: the
// double-precision values, the same bits at 1 and 3 threads.
TEST(ConvOp, OnePixelConvsMatchTheirDotProducts) {
  const int64_t C = 70, M1 = 600, M2 = 48;
  Graph g;
  const Tensor x = Random({1, C, 1, 1}, 41), w1 = Random({M1, C, 1, 1}, 42), b1 = Random({M1}, 43);
  Tensor w2 = Random({M2, M1, 3, 3}, 44);
  const Tensor b2 = Random({M2}, 45);
  const bool forced = ReferenceKernelsForced();
  for (int64_t i = 0; i < w2.numel(); ++i)
    if (i % 9 != 4 && !forced) w2.data<float>()[i] = NAN;
  const int xi = AddTestInput(g, "x", DType::kFloat32, {1, C, 1, 1});
  const int c1 = AddTestValue(g, "c1"), r1 = AddTestValue(g, "r1"), c2 = AddTestValue(g, "c2"), y = AddTestValue(g, "y");
  g.AddNode(MakeNode("Conv", "conv1", {xi, AddTestValue(g, "w1", w1), AddTestValue(g, "b1", b1)}, {c1}, {}, 17));
  g.AddNode(MakeNode("Relu", "relu", {c1}, {r1}, {}, 17));
  g.AddNode(MakeNode("Conv", "conv2", {r1, AddTestValue(g, "w2", w2), AddTestValue(g, "b2", b2)}, {c2},
                     {{"pads", IntsAttr({1, 1, 1, 1})}}, 17));
  g.AddNode(MakeNode("HardSigmoid", "hs", {c2}, {y}, {{"alpha", FloatAttr(0.15f)}, {"beta", FloatAttr(0.5f)}}, 17));
  g.outputs = {y};
  ASSERT_TRUE(PrepareGraph(g).ok());
  std::vector<double> h(M1), want(M2);
  for (int64_t m = 0; m < M1; ++m) {
    double acc = b1.data<float>()[m];
    for (int64_t c = 0; c < C; ++c) acc += (double)w1.data<float>()[m * C + c] * x.data<float>()[c];
    h[(size_t)m] = std::max(acc, 0.0);
  }
  for (int64_t m = 0; m < M2; ++m) {
    double acc = b2.data<float>()[m];
    for (int64_t c = 0; c < M1; ++c) acc += (double)w2.data<float>()[(m * M1 + c) * 9 + 4] * h[(size_t)c];
    want[(size_t)m] = std::clamp(0.15 * acc + 0.5, 0.0, 1.0);
  }
  auto run = [&](bool optimize, int threads) { return RunGraph(g, x, "y", optimize, true, threads); };
  double spread = 0;
  for (bool optimize : {false, true}) {
    const Tensor one = run(optimize, 1), three = run(optimize, 3);
    ASSERT_EQ(one.shape(), (Shape{1, M2, 1, 1}));
    EXPECT_EQ(0, std::memcmp(one.raw(), three.raw(), one.nbytes())) << "optimize=" << optimize;
    for (int64_t m = 0; m < M2; ++m) {
      ASSERT_TRUE(std::isfinite(one.data<float>()[m])) << m;
      EXPECT_NEAR(one.data<float>()[m], want[(size_t)m], 1e-5) << "optimize=" << optimize << " channel " << m;
      spread = std::max(spread, std::fabs(want[(size_t)m] - want[0]));
    }
  }
  EXPECT_GT(spread, 0.1);  // outputs that differ, not all clamped to one value
}

// LiveTaps' geometry: which taps stay, the begin pads and kernel after TrimTaps, and the cases
// it leaves alone (no dead edge tap; a begin pad that would turn negative; no live tap at all).
TEST(ConvOp, LiveTapsGeometry) {
  auto geom = [](int64_t in, int64_t out, int64_t k, int64_t s, int64_t d, int64_t pb) {
    kernels::ConvGeom g;
    g.SetSpatial({in, in}, {out, out}, {k, k}, {s, s}, {d, d}, {pb, pb});
    return g;
  };
  int64_t lo[3], hi[3];
  // Trims `g` to taps [want_lo, want_hi] in H and W, then has kernel k, begin pad pb, dilation d.
  auto expect_trim = [&](kernels::ConvGeom g, int64_t want_lo, int64_t want_hi, int64_t k, int64_t pb, int64_t d) {
    ASSERT_TRUE(kernels::LiveTaps(g, lo, hi));
    EXPECT_EQ((std::vector<int64_t>{lo[1], hi[1], lo[2], hi[2]}),
              (std::vector<int64_t>{want_lo, want_hi, want_lo, want_hi}));
    kernels::TrimTaps(g, lo, hi);
    EXPECT_EQ((std::vector<int64_t>{g.k[1], g.pb[1], g.d[1]}), (std::vector<int64_t>{k, pb, d}));
  };
  // ASPP: 3x3 dilated 24, pad 24, on 20x20: the centre only, a 1x1 conv without pads.
  expect_trim(geom(20, 20, 3, 1, 24, 24), 1, 1, 1, 0, 1);
  // Dilated 12 on 20x20: every tap reads the input for some output.
  EXPECT_FALSE(kernels::LiveTaps(geom(20, 20, 3, 1, 12, 12), lo, hi));
  // 5x5 stride 2, dilation 3, pad 6 on 4 -> out 2: tap k reads positions 3k - 6 and 3k - 4, so
  // taps 0, 1 and 4 are dead, 2 and 3 live; begin pad 6 - 2 * 3 = 0.
  expect_trim(geom(4, 2, 5, 2, 3, 6), 2, 3, 2, 0, 3);
  // An ordinary 3x3 pad 1: nothing to trim.
  EXPECT_FALSE(kernels::LiveTaps(geom(7, 7, 3, 1, 1, 1), lo, hi));
  // Cropped weights: W[m][c][kh][kw] keeps [lo, hi] of each dim, in order.
  kernels::ConvGeom g = geom(20, 20, 3, 1, 24, 24);
  g.M = 2;
  g.C = 1;
  std::vector<float> w(18), live;
  for (int i = 0; i < 18; ++i) w[(size_t)i] = (float)i;
  ASSERT_TRUE(kernels::LiveTaps(g, lo, hi));
  kernels::CropTaps(g, lo, hi, w.data(), &live);
  EXPECT_EQ(live, (std::vector<float>{4.f, 13.f}));
}

// The same inside a channels-last region (oneDNN's NHWC kernel on the live taps, in blocks of
// rows): 3x3 -> 3x3 dilated 6 on 5x5 (its centre tap only; NaN weights elsewhere) -> 1x1, against
// the plain graph.
TEST(ConvOp, EdgeTapsLeftOutInsideAChannelsLastRegion) {
  if (ReferenceKernelsForced()) GTEST_SKIP() << "forced reference kernels compute every tap, in no region";
  Graph g;
  const int x = AddTestInput(g, "x", DType::kFloat32, {1, 8, 5, 5});
  Tensor w2 = Random({16, 16, 3, 3}, 31);
  for (int64_t i = 0; i < w2.numel(); ++i)
    if (i % 9 != 4) w2.data<float>()[i] = NAN;
  auto conv = [&](int in, const std::string& name, Tensor w, int64_t d, int64_t p) {
    const int y = AddTestValue(g, name);
    g.AddNode(MakeNode("Conv", name, {in, AddTestValue(g, name + "_w", std::move(w))}, {y},
                       {{"dilations", IntsAttr({d, d})}, {"pads", IntsAttr({p, p, p, p})}}, 17));
    return y;
  };
  const int c1 = conv(x, "c1", Random({16, 8, 3, 3}, 30), 1, 1);
  const int c2 = conv(c1, "c2", w2, 6, 6);
  const int c3 = conv(c2, "c3", Random({4, 16, 1, 1}, 32), 1, 0);
  g.outputs = {c3};
  ASSERT_TRUE(PrepareGraph(g).ok());
  const Tensor xv = Random({1, 8, 5, 5}, 33);
  auto run = [&](bool optimize, bool channels_last, int threads) {
    return RunGraph(g, xv, "c3", optimize, channels_last, threads);
  };
  const Tensor plain = run(false, false, 1), last = run(true, true, 1), last3 = run(true, true, 3);
  EXPECT_EQ(0, std::memcmp(last.raw(), last3.raw(), last.nbytes()));
  double worst = 0, spread = 0;
  for (int64_t i = 0; i < plain.numel(); ++i) {
    ASSERT_TRUE(std::isfinite(plain.data<float>()[i]) && std::isfinite(last.data<float>()[i])) << i;
    worst = std::max(worst, (double)std::fabs(plain.data<float>()[i] - last.data<float>()[i]));
    spread = std::max(spread, (double)std::fabs(plain.data<float>()[i] - plain.data<float>()[0]));
  }
  EXPECT_LT(worst, 1e-4);
  EXPECT_GT(spread, 0.1);
}

TEST(ConvOp, ChannelMismatchNamesTheNode) {
  auto r = InferOp(OpCase("Conv").Attr("group", IntAttr(2)),
                   {Info(DType::kFloat32, {1, 6, 8, 8}), Info(DType::kFloat32, {4, 2, 3, 3})});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("node 'n' (Conv)"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("channels"), std::string::npos) << r.status().message();
}

TEST(ConvOp, UnknownDimsStayUnknown) {
  OpCase c = OpCase("Conv").Attr("pads", IntsAttr({1, 1, 1, 1}));
  auto r = InferOp(c, {Info(DType::kFloat16, {-1, 3, -1, 10}), Info(DType::kFloat16, {8, 3, 3, 3})});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].shape, (Shape{-1, 8, -1, 10}));
  EXPECT_EQ((*r)[0].dtype, DType::kFloat16);
  auto bad = InferOp(c, {Info(DType::kInt64, {1, 3, 5, 5}), Info(DType::kFloat32, {8, 3, 3, 3})});
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace dopt
