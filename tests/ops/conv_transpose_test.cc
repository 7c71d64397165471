// ConvTranspose against a naive scatter loop (2-D), plus output_shape / auto_pad shape rules.
#include "op_test_util.h"

namespace dopt {
namespace {

using namespace optest;

TEST(ConvTransposeOp, SweepMatchesNaiveScatter) {
  ThreadPool pool(2);
  uint32_t seed = 11;
  struct C { int64_t N, C, M, G, H, W, KH, KW, S, D, PT, PL, PB, PR, OP; };
  std::vector<C> cases = {{1, 2, 3, 1, 3, 3, 3, 3, 1, 1, 0, 0, 0, 0, 0}, {2, 4, 6, 2, 5, 4, 3, 2, 2, 1, 1, 0, 1, 1, 1},
                          {1, 3, 2, 1, 7, 5, 4, 4, 3, 2, 2, 1, 0, 3, 0}, {1, 6, 6, 6, 6, 7, 3, 3, 2, 1, 1, 1, 1, 1, 1},
                          {1, 5, 7, 1, 11, 13, 2, 2, 2, 1, 0, 0, 0, 0, 0}};
  for (const C& c : cases) {
    Tensor x = Random({c.N, c.C, c.H, c.W}, seed), w = Random({c.C, c.M / c.G, c.KH, c.KW}, seed + 1),
           b = Random({c.M}, seed + 2);
    seed += 3;
    Node n = MakeNode("ConvTranspose",
                      {{"group", Int(c.G)}, {"strides", Ints({c.S, c.S})}, {"dilations", Ints({c.D, c.D})},
                       {"pads", Ints({c.PT, c.PL, c.PB, c.PR})}, {"output_padding", Ints({c.OP, c.OP})}},
                      3, 1);
    const int64_t OH = c.S * (c.H - 1) + c.OP + (c.KH - 1) * c.D + 1 - c.PT - c.PB;
    const int64_t OW = c.S * (c.W - 1) + c.OP + (c.KW - 1) * c.D + 1 - c.PL - c.PR;
    std::vector<double> ref((size_t)(c.N * c.M * OH * OW));
    const int64_t Cg = c.C / c.G, Mg = c.M / c.G;
    for (int64_t nn = 0; nn < c.N; ++nn)
      for (int64_t m = 0; m < c.M; ++m)
        for (int64_t i = 0; i < OH * OW; ++i) ref[(nn * c.M + m) * OH * OW + i] = b.data<float>()[m];
    for (int64_t nn = 0; nn < c.N; ++nn)
      for (int64_t ci = 0; ci < c.C; ++ci)
        for (int64_t h = 0; h < c.H; ++h)
          for (int64_t ww = 0; ww < c.W; ++ww)
            for (int64_t mm = 0; mm < Mg; ++mm)
              for (int64_t kh = 0; kh < c.KH; ++kh)
                for (int64_t kw = 0; kw < c.KW; ++kw) {
                  int64_t oh = h * c.S - c.PT + kh * c.D, ow = ww * c.S - c.PL + kw * c.D;
                  if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                  int64_t m = (ci / Cg) * Mg + mm;
                  ref[((nn * c.M + m) * OH + oh) * OW + ow] +=
                      (double)x.data<float>()[((nn * c.C + ci) * c.H + h) * c.W + ww] *
                      w.data<float>()[((ci * Mg + mm) * c.KH + kh) * c.KW + kw];
                }
    for (ThreadPool* p : {(ThreadPool*)nullptr, &pool}) {
      auto r = RunNode(n, {&x, &w, &b}, p);
      ASSERT_TRUE(r.ok()) << r.status().message();
      ASSERT_EQ((*r)[0].shape(), (Shape{c.N, c.M, OH, OW}));
      ExpectNear((*r)[0], std::vector<float>(ref.begin(), ref.end()), 1e-5f * (float)(Cg * c.KH * c.KW), "case");
    }
  }
}

TEST(ConvTransposeOp, OutputShapeAndAutoPad) {
  Node n = MakeNode("ConvTranspose", {{"strides", Ints({3, 2})}, {"output_shape", Ints({10, 8})}}, 2, 1);
  auto r = InferNode(n, {Info(DType::kFloat32, {1, 1, 3, 3}), Info(DType::kFloat32, {1, 2, 3, 3})});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].shape, (Shape{1, 2, 10, 8}));
  Node s = MakeNode("ConvTranspose", {{"strides", Ints({2, 2})}, {"auto_pad", Str("SAME_UPPER")}}, 2, 1);
  r = InferNode(s, {Info(DType::kFloat32, {1, 1, 3, -1}), Info(DType::kFloat32, {1, 2, 3, 3})});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].shape, (Shape{1, 2, 6, -1}));
  auto bad = InferNode(s, {Info(DType::kFloat32, {1, 4, 3, 3}), Info(DType::kFloat32, {1, 2, 3, 3})});
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace dopt
