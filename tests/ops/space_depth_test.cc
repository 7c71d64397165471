#include <limits>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

// Reference through the spec's reshape/transpose formulation, by explicit index arithmetic.
Tensor RefDepthToSpace(const Tensor& x, int64_t b, bool crd) {
  const int64_t n = x.dim(0), C = x.dim(1), h = x.dim(2), w = x.dim(3), c = C / (b * b);
  Tensor y(DType::kFloat32, {n, c, h * b, w * b});
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  int64_t o = 0;
  for (int64_t in = 0; in < n; ++in)
    for (int64_t ic = 0; ic < c; ++ic)
      for (int64_t ih = 0; ih < h; ++ih)
        for (int64_t i = 0; i < b; ++i)
          for (int64_t iw = 0; iw < w; ++iw)
            for (int64_t j = 0; j < b; ++j) {
              int64_t ch = crd ? ic * b * b + i * b + j : i * b * c + j * c + ic;
              yp[o++] = xp[((in * C + ch) * h + ih) * w + iw];
            }
  return y;
}

TEST(DepthToSpaceOp, SpecExampleDcrAndCrd) {
  // ONNX's documented example: x = arange(48).reshape(1, 8, 2, 3), blocksize 2.
  std::vector<float> v(48);
  for (int i = 0; i < 48; ++i) v[i] = (float)i;
  Tensor x = Tensor::FromFloats({1, 8, 2, 3}, v);
  Tensor dcr = Tensor::FromFloats({1, 2, 4, 6}, {0,  12, 1,  13, 2,  14, 24, 36, 25, 37, 26, 38, 3,  15, 4,  16,
                                                5,  17, 27, 39, 28, 40, 29, 41, 6,  18, 7,  19, 8,  20, 30, 42,
                                                31, 43, 32, 44, 9,  21, 10, 22, 11, 23, 33, 45, 34, 46, 35, 47});
  Tensor crd = Tensor::FromFloats({1, 2, 4, 6}, {0,  6,  1,  7,  2,  8,  12, 18, 13, 19, 14, 20, 3,  9,  4,  10,
                                                5,  11, 15, 21, 16, 22, 17, 23, 24, 30, 25, 31, 26, 32, 36, 42,
                                                37, 43, 38, 44, 27, 33, 28, 34, 29, 35, 39, 45, 40, 46, 41, 47});
  EXPECT_TRUE(CheckOp(OpCase("DepthToSpace").Attr("blocksize", IntAttr(2)).Input(x).Expect(dcr).Label("DCR default")));
  EXPECT_TRUE(CheckOp(OpCase("DepthToSpace").Attr("blocksize", IntAttr(2)).Attr("mode", StringAttr("CRD")).Input(x).Expect(crd)));
  // SpaceToDepth undoes DCR.
  EXPECT_TRUE(CheckOp(OpCase("SpaceToDepth").Attr("blocksize", IntAttr(2)).Input(dcr).Expect(x)));
}

TEST(DepthToSpaceOp, RandomShapesBothModesAndInverse) {
  struct Case { Shape s; int64_t b; };
  for (const Case& c : {Case{{2, 18, 5, 7}, 3}, Case{{1, 64, 33, 17}, 2}, Case{{3, 4, 1, 1}, 2}, Case{{1, 5, 4, 3}, 1}}) {
    Tensor x = Random(c.s, 7);
    for (bool crd : {false, true}) {
      std::vector<Tensor> out;
      auto ref = [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{RefDepthToSpace(in[0], c.b, crd)}; };
      ASSERT_TRUE(CheckOp(OpCase("DepthToSpace")
                              .Attr("blocksize", IntAttr(c.b))
                              .Attr("mode", StringAttr(crd ? "CRD" : "DCR"))
                              .Input(x)
                              .Reference(ref, Tol::Exact())
                              .Label(ShapeToString(c.s)),
                          &out));
      if (!crd) {
        EXPECT_TRUE(CheckOp(OpCase("SpaceToDepth").Attr("blocksize", IntAttr(c.b)).Input(out[0]).Expect(x)));
      }
    }
  }
}

TEST(DepthToSpaceOp, IntegerTypesAndShapeRules) {
  Tensor x = Make<int64_t>(DType::kInt64, {1, 4, 1, 1}, {1, 2, 3, 4});
  EXPECT_TRUE(CheckOp(OpCase("DepthToSpace").Attr("blocksize", IntAttr(2)).Input(x)
                          .Expect(Make<int64_t>(DType::kInt64, {1, 1, 2, 2}, {1, 2, 3, 4}))));
  Tensor u = Make<uint8_t>(DType::kUInt8, {1, 1, 2, 2}, {1, 2, 3, 4});
  EXPECT_TRUE(CheckOp(OpCase("SpaceToDepth").Attr("blocksize", IntAttr(2)).Input(u)
                          .Expect(Make<uint8_t>(DType::kUInt8, {1, 4, 1, 1}, {1, 2, 3, 4}))));
  auto inf = InferOp(OpCase("DepthToSpace").Attr("blocksize", IntAttr(2)), {Info(DType::kFloat16, {-1, 8, -1, 3})});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].shape, (Shape{-1, 2, -1, 6}));
  inf = InferOp(OpCase("SpaceToDepth").Attr("blocksize", IntAttr(2)), {Info(DType::kFloat32, {1, 3, -1, 4})});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].shape, (Shape{1, 12, -1, 2}));
  EXPECT_FALSE(InferOp(OpCase("DepthToSpace").Attr("blocksize", IntAttr(2)), {Info(DType::kFloat32, {1, 6, 2, 2})}).ok());
  EXPECT_FALSE(InferOp(OpCase("SpaceToDepth").Attr("blocksize", IntAttr(2)), {Info(DType::kFloat32, {1, 6, 3, 2})}).ok());
  EXPECT_FALSE(InferOp(OpCase("DepthToSpace"), {Info(DType::kFloat32, {1, 4, 2, 2})}).ok());  // no blocksize
  EXPECT_FALSE(InferOp(OpCase("DepthToSpace").Attr("blocksize", IntAttr(2)).Attr("mode", StringAttr("XYZ")),
                       {Info(DType::kFloat32, {1, 4, 2, 2})}).ok());
  EXPECT_FALSE(InferOp(OpCase("SpaceToDepth").Attr("blocksize", IntAttr(2)), {Info(DType::kFloat32, {4, 2, 2})}).ok());
}

TEST(GlobalMaxPoolOp, MaxOverSpatialDims) {
  Tensor x = Tensor::FromFloats({1, 2, 2, 3}, {1, -2, 3, 4, 5, -6, -10, -9, -10, -10, -10, -16});
  EXPECT_TRUE(CheckOp(OpCase("GlobalMaxPool").Input(x).Expect(Tensor::FromFloats({1, 2, 1, 1}, {5, -9}))));
  Tensor q = Make<int8_t>(DType::kInt8, {2, 1, 3}, {-5, 7, 1, -128, -100, -128});
  EXPECT_TRUE(CheckOp(OpCase("GlobalMaxPool").Input(q).Expect(Make<int8_t>(DType::kInt8, {2, 1, 1}, {7, -100}))));
  for (const Shape& s : {Shape{2, 37, 500}, Shape{3, 17, 13, 11}, Shape{1, 64, 3, 5, 7}}) {
    auto ref = [](const std::vector<Tensor>& in) {
      Shape os = {in[0].dim(0), in[0].dim(1)};
      int64_t plane = 1;
      for (int d = 2; d < in[0].rank(); ++d) {
        plane *= in[0].dim(d);
        os.push_back(1);
      }
      Tensor y(DType::kFloat32, os);
      for (int64_t p = 0; p < y.numel(); ++p) {
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t k = 0; k < plane; ++k) m = std::max(m, in[0].data<float>()[p * plane + k]);
        y.data<float>()[p] = m;
      }
      return std::vector<Tensor>{y};
    };
    EXPECT_TRUE(CheckOp(OpCase("GlobalMaxPool").Input(Random(s, 93)).Reference(ref, Tol::Exact()).Label(ShapeToString(s))));
  }
  auto inf = InferOp(OpCase("GlobalMaxPool"), {Info(DType::kFloat16, {-1, 8, -1, -1, 4})});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].shape, (Shape{-1, 8, 1, 1, 1}));
  EXPECT_FALSE(InferOp(OpCase("GlobalMaxPool"), {Info(DType::kInt64, {1, 2, 3})}).ok());
  EXPECT_FALSE(InferOp(OpCase("GlobalMaxPool"), {Info(DType::kFloat32, {3})}).ok());
}

}  // namespace
}  // namespace dopt
