// ConvTranspose against a naive scatter loop (2-D), plus output_shape / auto_pad shape rules.
#include "check_op.h"

namespace dopt {
namespace {

using namespace optest;

TEST(ConvTransposeOp, SweepMatchesNaiveScatter) {
  uint32_t seed = 11;
  struct C { int64_t N, C, M, G, H, W, KH, KW, S, D, PT, PL, PB, PR, OP; };
  std::vector<C> cases = {{1, 2, 3, 1, 3, 3, 3, 3, 1, 1, 0, 0, 0, 0, 0}, {2, 4, 6, 2, 5, 4, 3, 2, 2, 1, 1, 0, 1, 1, 1},
                          {1, 3, 2, 1, 7, 5, 4, 4, 3, 2, 2, 1, 0, 3, 0}, {1, 6, 6, 6, 6, 7, 3, 3, 2, 1, 1, 1, 1, 1, 1},
                          {1, 5, 7, 1, 11, 13, 2, 2, 2, 1, 0, 0, 0, 0, 0}};
  for (size_t ci_case = 0; ci_case < cases.size(); ++ci_case) {
    const C& c = cases[ci_case];
    Tensor x = Random({c.N, c.C, c.H, c.W}, seed), w = Random({c.C, c.M / c.G, c.KH, c.KW}, seed + 1),
           b = Random({c.M}, seed + 2);
    seed += 3;
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
    std::vector<Tensor> y;
    ASSERT_TRUE(CheckOp(OpCase("ConvTranspose")
                            .Attr("group", IntAttr(c.G))
                            .Attr("strides", IntsAttr({c.S, c.S}))
                            .Attr("dilations", IntsAttr({c.D, c.D}))
                            .Attr("pads", IntsAttr({c.PT, c.PL, c.PB, c.PR}))
                            .Attr("output_padding", IntsAttr({c.OP, c.OP}))
                            .Inputs({x, w, b})
                            .Expect(Tensor::FromFloats({c.N, c.M, OH, OW}, std::vector<float>(ref.begin(), ref.end())),
                                    Tol::Near(1e-5 * (double)(Cg * c.KH * c.KW)))
                            .Threads({2})
                            .Label("case " + std::to_string(ci_case)),
                        &y));
    ASSERT_EQ(y[0].shape(), (Shape{c.N, c.M, OH, OW}));
  }
}

TEST(ConvTransposeOp, OutputShapeAndAutoPad) {
  auto r = InferOp(OpCase("ConvTranspose").Attr("strides", IntsAttr({3, 2})).Attr("output_shape", IntsAttr({10, 8})),
                   {Info(DType::kFloat32, {1, 1, 3, 3}), Info(DType::kFloat32, {1, 2, 3, 3})});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].shape, (Shape{1, 2, 10, 8}));
  OpCase s = OpCase("ConvTranspose").Attr("strides", IntsAttr({2, 2})).Attr("auto_pad", StringAttr("SAME_UPPER"));
  r = InferOp(s, {Info(DType::kFloat32, {1, 1, 3, -1}), Info(DType::kFloat32, {1, 2, 3, 3})});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].shape, (Shape{1, 2, 6, -1}));
  auto bad = InferOp(s, {Info(DType::kFloat32, {1, 4, 3, 3}), Info(DType::kFloat32, {1, 2, 3, 3})});
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace dopt
