#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

// Independent reference: direct index arithmetic.
std::vector<float> RefTranspose(const Tensor& x, const std::vector<int64_t>& perm) {
  const int r = x.rank();
  Shape out(r);
  for (int i = 0; i < r; ++i) out[i] = x.dim((int)perm[i]);
  std::vector<float> y(x.numel());
  std::vector<int64_t> idx(r, 0);
  for (int64_t o = 0; o < x.numel(); ++o) {
    int64_t rem = o;
    for (int d = r - 1; d >= 0; --d) {
      idx[d] = rem % out[d];
      rem /= out[d];
    }
    int64_t in = 0;
    std::vector<int64_t> iidx(r);
    for (int d = 0; d < r; ++d) iidx[perm[d]] = idx[d];
    for (int d = 0; d < r; ++d) in = in * x.dim(d) + iidx[d];
    y[o] = x.data<float>()[in];
  }
  return y;
}

TEST(Transpose, MatchesReferenceForManyShapesAndThreads) {
  struct Case { Shape s; std::vector<int64_t> p; };
  std::vector<Case> cases = {{{1, 37, 41, 3}, {0, 3, 1, 2}}, {{1, 3, 37, 41}, {0, 2, 3, 1}},
                             {{2, 3, 5, 7}, {3, 1, 0, 2}}, {{1, 4420, 2}, {0, 2, 1}},
                             {{3, 70, 50}, {0, 2, 1}},      {{4, 1, 5}, {1, 2, 0}},
                             {{2, 3, 4, 5, 6}, {4, 2, 0, 3, 1}},
                             // 2-4 channels to channels-last: interleaved planes, batched, > 4096 pixels
                             {{2, 2, 70, 65}, {0, 2, 3, 1}}, {{2, 4, 9, 11}, {0, 2, 3, 1}},
                             // 8 x 8 blocks (AVX2) with edges of every width: rows and columns of
                             // 8, 16, and 1-7 past a multiple of 8, both ways, batched
                             {{1, 32, 13, 11}, {0, 2, 3, 1}}, {{2, 17, 9, 9}, {0, 3, 1, 2}},
                             {{1, 8, 8, 8}, {0, 2, 3, 1}},    {{1, 16, 5, 8}, {0, 3, 1, 2}},
                             {{3, 9, 15}, {0, 2, 1}},         {{1, 100, 64}, {0, 2, 1}},
                             {{1, 257, 33}, {0, 2, 1}}};
  for (const Case& c : cases) {
    std::vector<float> v(NumElements(c.s));
    for (size_t i = 0; i < v.size(); ++i) v[i] = (float)i;
    Tensor x = Tensor::FromFloats(c.s, v);
    std::vector<Tensor> out;
    ASSERT_TRUE(CheckOp(OpCase("Transpose", 13).Attr("perm", IntsAttr(c.p)).Input(x).Threads({4}).Label(ShapeToString(c.s)),
                        &out));
    EXPECT_EQ(Values<float>(out[0]), RefTranspose(x, c.p)) << ShapeToString(c.s);
  }
  Tensor x(DType::kFloat32, {2, 3});
  EXPECT_FALSE(RunOp(OpCase("Transpose", 13).Attr("perm", IntsAttr({0, 0})).Input(x)).ok());
}

}  // namespace
}  // namespace dopt
