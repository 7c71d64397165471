#include <cmath>
#include <complex>
#include <map>
#include <numbers>

#include "check_op.h"
#include "ops/shape_inference.h"
#include "ops/signal_util.h"
#include "passes/upgrade_opset.h"

namespace dopt {
namespace {
using namespace optest;
using cd = std::complex<double>;

// The O(n^2) definition in double, along axis `a` of x [..., 1 | 2] (numpy's fft / ifft /
// rfft / irfft with n).
Tensor NaiveDft(const Tensor& x, int a, int64_t n, bool inverse, bool onesided) {
  const int rank = x.rank();
  const int64_t c = x.dim(rank - 1), len = x.dim(a);
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < a; ++d) outer *= x.dim(d);
  for (int d = a + 1; d < rank - 1; ++d) inner *= x.dim(d);
  const bool irfft = inverse && onesided;
  const int64_t len_out = irfft ? n : onesided ? n / 2 + 1 : n, c_out = irfft ? 1 : 2;
  Shape os = x.shape();
  os[a] = len_out;
  os[rank - 1] = c_out;
  Tensor y(DType::kFloat32, os);
  const double sign = inverse ? 1 : -1;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      std::vector<cd> v(n, 0);
      auto at = [&](int64_t j) {
        const float* p = x.data<float>() + ((o * len + j) * inner + i) * c;
        return cd(p[0], c == 2 ? p[1] : 0);
      };
      if (irfft) {
        for (int64_t k = 0; k < n; ++k) {
          const int64_t kk = k <= n / 2 ? k : n - k;
          cd val = kk < len ? at(kk) : cd(0);
          if (kk == 0 || 2 * kk == n) val = cd(val.real(), 0);
          v[k] = k <= n / 2 ? val : std::conj(val);
        }
      } else {
        for (int64_t j = 0; j < std::min(n, len); ++j) v[j] = at(j);
      }
      for (int64_t k = 0; k < len_out; ++k) {
        cd acc = 0;
        for (int64_t j = 0; j < n; ++j) acc += v[j] * std::polar(1.0, sign * 2 * std::numbers::pi * (double)((j * k) % n) / (double)n);
        if (inverse) acc /= (double)n;
        float* q = y.data<float>() + ((o * len_out + k) * inner + i) * c_out;
        q[0] = (float)acc.real();
        if (c_out == 2) q[1] = (float)acc.imag();
      }
    }
  return y;
}

TEST(FftPlan, MatchesNaiveDftForManyLengths) {
  for (int64_t n : {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 17, 30, 64, 97, 100, 128, 400, 512}) {
    for (bool inverse : {false, true}) {
      std::vector<cd> in(n), out(n), scratch;
      const std::vector<float> r = RandomFloats(2 * n, (uint32_t)n);
      for (int64_t j = 0; j < n; ++j) in[j] = cd(r[2 * j], r[2 * j + 1]);
      FftPlan(n, inverse).Run(in.data(), 1, out.data(), &scratch);
      double max_err = 0;
      for (int64_t k = 0; k < n; ++k) {
        cd acc = 0;
        for (int64_t j = 0; j < n; ++j) acc += in[j] * std::polar(1.0, (inverse ? 2 : -2) * std::numbers::pi * (double)((j * k) % n) / (double)n);
        max_err = std::max(max_err, std::abs(acc - out[k]));
      }
      EXPECT_LT(max_err, 1e-12 * n) << "n=" << n << " inverse=" << inverse;
    }
  }
}

Tensor Scalar64(int64_t v) { return Tensor::FromInt64s({}, {v}); }

// Shapes x lengths x axes x modes at opset 20 (axis input) and 17 (axis attribute).
TEST(DftOp, SweepMatchesNaiveDft) {
  struct Mode {
    bool inverse, onesided;
    int64_t c;
  };
  const std::vector<Mode> modes = {{false, false, 1}, {false, false, 2}, {false, true, 1}, {true, false, 2}, {true, false, 1}, {true, true, 2}};
  for (const Shape& s : {Shape{2, 8, 1}, Shape{3, 5, 7, 2}, Shape{1, 12, 3, 1}, Shape{16, 2}, Shape{2, 17, 2, 2}})
    for (const Mode& m : modes) {
      Shape xs = s;
      xs.back() = m.c;
      const Tensor x = Random(xs, (uint32_t)(xs.size() * 10 + m.c));
      const int rank = (int)xs.size();
      for (int a = 0; a < rank - 1; ++a)
        for (int64_t dl : {int64_t{-1}, int64_t{1}, int64_t{4}, int64_t{9}, int64_t{20}}) {
          const int64_t len = xs[a];
          const int64_t n = dl > 0 ? dl : (m.inverse && m.onesided ? 2 * (len - 1) : len);
          if (n < 1) continue;
          const std::string label = ShapeToString(xs) + " axis=" + std::to_string(a) + " n=" + std::to_string(n) +
                                    (m.inverse ? " inverse" : "") + (m.onesided ? " onesided" : "");
          auto ref = [=](const std::vector<Tensor>& in) { return std::vector<Tensor>{NaiveDft(in[0], a, n, m.inverse, m.onesided)}; };
          const Tol tol = Tol::Abs(1e-5 * (double)n);
          OpCase c20("DFT", 20);
          c20.Attr("inverse", IntAttr(m.inverse)).Attr("onesided", IntAttr(m.onesided)).Input(x);
          if (dl > 0) c20.Input(Scalar64(dl));
          else c20.Omitted();
          // The axis as given: negative half the time.
          c20.Input(Scalar64(a % 2 ? a - rank : a)).Reference(ref, tol).Label(label + " opset 20");
          EXPECT_TRUE(CheckOp(c20));
          OpCase c17("DFT", 17);
          c17.Attr("inverse", IntAttr(m.inverse)).Attr("onesided", IntAttr(m.onesided)).Attr("axis", IntAttr(a)).Input(x);
          if (dl > 0) c17.Input(Tensor::FromInt64s({1}, {dl}));
          EXPECT_TRUE(CheckOp(c17.Reference(ref, tol).Label(label + " opset 17")));
        }
    }
}

// Defaults: axis 1 at opset 17, -2 at opset 20; a forward then inverse transform is the identity.
TEST(DftOp, DefaultAxesAndRoundTrip) {
  const Tensor x = Random({2, 6, 10, 2}, 3);
  EXPECT_TRUE(CheckOp(OpCase("DFT", 17).Input(x).Expect(NaiveDft(x, 1, 6, false, false), Tol::Abs(1e-5))));
  EXPECT_TRUE(CheckOp(OpCase("DFT", 20).Input(x).Expect(NaiveDft(x, 2, 10, false, false), Tol::Abs(1e-5))));
  std::vector<Tensor> fwd;
  ASSERT_TRUE(CheckOp(OpCase("DFT", 20).Input(x), &fwd));
  EXPECT_TRUE(CheckOp(OpCase("DFT", 20).Attr("inverse", IntAttr(1)).Input(fwd[0]).Expect(x, Tol::Abs(1e-5))));
  // RFFT then IRFFT with the original length gives the real signal back.
  const Tensor r = Random({3, 11, 1}, 4);
  ASSERT_TRUE(CheckOp(OpCase("DFT", 20).Attr("onesided", IntAttr(1)).Input(r), &fwd));
  EXPECT_EQ(fwd[0].shape(), (Shape{3, 6, 2}));
  EXPECT_TRUE(CheckOp(OpCase("DFT", 20).Attr("onesided", IntAttr(1)).Attr("inverse", IntAttr(1)).Input(fwd[0]).Input(Scalar64(11))
                          .Expect(r, Tol::Abs(1e-5))));
}

// DFT-17 -> 20 moves the axis attribute (default 1) to input 2; outputs are unchanged.
TEST(DftOp, UpgradeMovesAxisToInput) {
  for (int axis : {-1, 1, 2, -3}) {  // -1 stands for "no attribute"
    Graph g;
    g.info.opsets = {{"", 17}};
    const int x = AddTestInput(g, "x", DType::kFloat32, {2, 5, 6, 2});
    const int y = AddTestValue(g, "y");
    AttrList attrs;
    if (axis != -1) attrs.emplace_back("axis", IntAttr(axis));
    g.AddNode(MakeNode("DFT", "dft", {x}, {y}, attrs, 17));
    g.outputs = {y};
    ASSERT_TRUE(PrepareGraph(g).ok());
    const std::map<std::string, Tensor> feeds = {{"x", Random({2, 5, 6, 2}, 8)}};
    const auto before = RunGraph(g, feeds);
    const Status st = UpgradeOpset(g, 21);
    ASSERT_TRUE(st.ok()) << st.message();
    const Node& n = g.nodes[0];
    EXPECT_FALSE(n.HasAttr("axis"));
    ASSERT_EQ(n.inputs.size(), 3u);
    EXPECT_EQ(n.inputs[1], -1);
    const Value& ax = g.value(n.inputs[2]);
    ASSERT_TRUE(ax.initializer.has_value());
    EXPECT_EQ(ax.initializer->rank(), 0);
    EXPECT_EQ(ax.initializer->ToInt64Vector()[0], axis == -1 ? 1 : axis);
    const auto after = RunGraph(g, feeds);
    EXPECT_TRUE(TensorsNear(after.at("y"), before.at("y"), Tol::Exact(), "axis " + std::to_string(axis)));
  }
}

TEST(DftOp, ShapeRuleAndErrors) {
  auto inf = InferOp(OpCase("DFT", 20).Attr("onesided", IntAttr(1)), {Info(DType::kFloat32, {-1, 16, 1})});
  ASSERT_TRUE(inf.ok()) << inf.status().message();
  EXPECT_EQ((*inf)[0].shape, (Shape{-1, 9, 2}));
  const Tensor dl = Scalar64(32);
  inf = InferOp(OpCase("DFT", 17).Attr("axis", IntAttr(2)), {Info(DType::kFloat32, {-1, 16, 7, 2}), Info(DType::kInt64, {}, &dl)});
  ASSERT_TRUE(inf.ok()) << inf.status().message();
  EXPECT_EQ((*inf)[0].shape, (Shape{-1, 16, 32, 2}));
  const Tensor x = Random({2, 8, 2}, 1), xr = Random({2, 8, 1}, 1);
  EXPECT_FALSE(RunOp(OpCase("DFT", 20).Input(Random({2, 8, 3}, 1))).ok());                      // last dim 3
  EXPECT_FALSE(RunOp(OpCase("DFT", 20).Input(x).Omitted().Input(Scalar64(2))).ok());            // the complex dim
  EXPECT_FALSE(RunOp(OpCase("DFT", 20).Input(x).Omitted().Input(Scalar64(-4))).ok());           // out of range
  EXPECT_FALSE(RunOp(OpCase("DFT", 20).Input(x).Input(Scalar64(0))).ok());                      // dft_length 0
  EXPECT_FALSE(RunOp(OpCase("DFT", 20).Input(x).Input(Scalar64(-3))).ok());
  EXPECT_FALSE(RunOp(OpCase("DFT", 20).Attr("onesided", IntAttr(1)).Input(x)).ok());           // RFFT of complex
  EXPECT_FALSE(RunOp(OpCase("DFT", 20).Attr("onesided", IntAttr(1)).Attr("inverse", IntAttr(1)).Input(xr)).ok());  // IRFFT of real
  EXPECT_FALSE(RunOp(OpCase("DFT", 20).Input(Random({8}, 1))).ok());                            // rank 1
  auto huge = RunOp(OpCase("DFT", 20).Input(x).Input(Scalar64(int64_t{1} << 40)));
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.status().message().find("DFT"), std::string::npos) << huge.status().message();
}

}  // namespace
}  // namespace dopt
