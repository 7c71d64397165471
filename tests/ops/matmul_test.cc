// MatMul: numpy semantics (1-D operands, batch broadcasting) against a naive loop; int types;
// edge sizes around the kernels' blocks.
#include "check_op.h"

namespace dopt {
namespace {

using namespace optest;

// numpy matmul in double: 1-D operands promoted, batch dims broadcast.
Tensor RefMatMul(const Tensor& a, const Tensor& b, const Shape& out) {
  Shape a2 = a.shape(), b2 = b.shape();
  if (a2.size() == 1) a2.insert(a2.begin(), 1);
  if (b2.size() == 1) b2.push_back(1);
  const int64_t M = a2[a2.size() - 2], K = a2.back(), N = b2.back();
  Shape ab(a2.begin(), a2.end() - 2), bb(b2.begin(), b2.end() - 2);
  const size_t r = std::max(ab.size(), bb.size());
  while (ab.size() < r) ab.insert(ab.begin(), 1);
  while (bb.size() < r) bb.insert(bb.begin(), 1);
  Shape batch(r);
  for (size_t i = 0; i < r; ++i) batch[i] = std::max(ab[i], bb[i]);
  std::vector<float> ref;
  for (int64_t bi = 0; bi < NumElements(batch); ++bi) {
    int64_t ai = 0, bj = 0, rem = bi, am = 1, bm = 1;
    for (int d = (int)r - 1; d >= 0; --d) {
      int64_t idx = rem % batch[d];
      rem /= batch[d];
      ai += (ab[d] == 1 ? 0 : idx) * am;
      bj += (bb[d] == 1 ? 0 : idx) * bm;
      am *= ab[d];
      bm *= bb[d];
    }
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double acc = 0;
        for (int64_t k = 0; k < K; ++k)
          acc += (double)a.data<float>()[(ai * M + i) * K + k] * b.data<float>()[(bj * K + k) * N + j];
        ref.push_back((float)acc);
      }
  }
  return Tensor::FromFloats(out, ref);
}

TEST(MatMulOp, BroadcastSweep) {
  struct C { Shape a, b, out; };
  std::vector<C> cases = {
      {{3}, {3}, {}},           {{3}, {3, 5}, {5}},          {{4, 3}, {3}, {4}},
      {{2, 4, 3}, {3, 5}, {2, 4, 5}}, {{4, 3}, {2, 3, 5}, {2, 4, 5}}, {{2, 1, 4, 3}, {3, 3, 5}, {2, 3, 4, 5}},
      {{7}, {2, 7, 3}, {2, 3}}, {{2, 3, 17}, {17}, {2, 3}},   {{1, 67, 131}, {131, 29}, {1, 67, 29}}};
  uint32_t seed = 9;
  for (const C& c : cases) {
    Tensor a = Random(c.a, seed), b = Random(c.b, seed + 1);
    seed += 2;
    auto inf = InferOp(OpCase("MatMul"), {Info(DType::kFloat32, c.a), Info(DType::kFloat32, c.b)});
    ASSERT_TRUE(inf.ok()) << inf.status().message();
    EXPECT_EQ((*inf)[0].shape, c.out);
    const int64_t K = c.a.back();
    std::vector<Tensor> out;
    ASSERT_TRUE(CheckOp(OpCase("MatMul")
                            .Inputs({a, b})
                            .Expect(RefMatMul(a, b, c.out), Tol::Near(2e-6 * (double)K + 1e-5))
                            .Threads({2})
                            .Label(ShapeToString(c.a) + "x" + ShapeToString(c.b)),
                        &out));
    EXPECT_EQ(out[0].shape(), c.out);
  }
}

// M, N, K over 1, 3, 7, 8, 9, 15, 16, 17 with and without a broadcast batch, plus shapes big
// enough for the threaded split, within eps * K * max|a| * max|b|.
TEST(MatMulOp, EdgeSizeSweep) {
  const int64_t sizes[] = {1, 3, 7, 8, 9, 15, 16, 17};
  struct C { Shape a, b; };
  std::vector<C> cases;
  for (int64_t M : sizes)
    for (int64_t N : sizes)
      for (int64_t K : sizes) {
        const int form = (int)((M + 2 * N + 3 * K) % 3);
        if (form == 0) cases.push_back({{M, K}, {K, N}});
        else if (form == 1) cases.push_back({{3, M, K}, {K, N}});
        else cases.push_back({{2, 1, M, K}, {3, K, N}});
      }
  cases.push_back({{2, 65, 257}, {257, 33}});
  cases.push_back({{1, 1025}, {1025, 300}});
  cases.push_back({{4, 40, 70}, {4, 70, 130}});
  uint32_t seed = 900;
  for (const C& c : cases) {
    Tensor a = Random(c.a, seed), b = Random(c.b, seed + 1);
    seed += 2;
    Shape ba(c.a.begin(), c.a.end() - 2), bb(c.b.begin(), c.b.end() - 2), out;
    while (ba.size() < bb.size()) ba.insert(ba.begin(), 1);
    while (bb.size() < ba.size()) bb.insert(bb.begin(), 1);
    for (size_t d = 0; d < ba.size(); ++d) out.push_back(std::max(ba[d], bb[d]));
    out.push_back(c.a[c.a.size() - 2]);
    out.push_back(c.b.back());
    const int64_t K = c.a.back();
    EXPECT_TRUE(CheckOp(OpCase("MatMul").Inputs({a, b})
                            .Expect(RefMatMul(a, b, out), Tol::Abs(4 * 1.2e-7 * (double)K * MaxAbs(a) * MaxAbs(b)))
                            .Label(ShapeToString(c.a) + "x" + ShapeToString(c.b))));
  }
}

TEST(MatMulOp, Int64AndErrors) {
  Tensor a = Tensor::FromInt64s({2, 2}, {1, 2, 3, 4}), b = Tensor::FromInt64s({2}, {5, 6});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("MatMul").Inputs({a, b}), &out));
  EXPECT_EQ(out[0].ToInt64Vector(), (std::vector<int64_t>{17, 39}));
  EXPECT_FALSE(InferOp(OpCase("MatMul"), {Info(DType::kFloat32, {2, 3}), Info(DType::kFloat32, {4, 5})}).ok());
  EXPECT_FALSE(InferOp(OpCase("MatMul"), {Info(DType::kFloat32, {2, 2, 3}), Info(DType::kFloat32, {3, 3, 5})}).ok());
}

}  // namespace
}  // namespace dopt
