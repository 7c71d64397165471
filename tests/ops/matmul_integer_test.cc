// MatMulInteger against a plain int32 loop (tests/ops/integer_ops_ref.h): 2-D and batched
// shapes (b shared or per batch), int8/uint8 operands, zero points none / per tensor / per row
// of a / per column of b / [.., M, 1] and [.., 1, N]; error cases.
#include "integer_ops_ref.h"

namespace dopt {
namespace {

using namespace optest;

struct MMCase {
  Shape a, b;
};

TEST(MatMulInteger, SweepMatchesPlainLoop) {
  const std::vector<MMCase> cases = {
      {{1, 1}, {1, 1}}, {{3, 4}, {4, 5}},         {{7, 33}, {33, 9}},        {{2, 5, 6}, {2, 6, 3}},
      {{3, 4, 17}, {17, 5}}, {{2, 3, 2, 8}, {2, 3, 8, 4}}, {{37, 70}, {70, 41}},  // several row blocks
  };
  uint32_t seed = 900;
  for (const MMCase& c : cases) {
    const int64_t M = c.a[c.a.size() - 2], N = c.b.back();
    for (int variant = 0; variant < 4; ++variant) {
      seed += 2;
      const DType at = variant % 2 ? DType::kInt8 : DType::kUInt8, bt = variant < 2 ? DType::kInt8 : DType::kUInt8;
      Tensor a = RandomInt(at, c.a, seed), b = RandomInt(bt, c.b, seed + 1);
      std::vector<int32_t> az = {0}, bz = {0};
      OpCase oc = OpCase("MatMulInteger").Inputs({a, b});
      if (variant == 1) {  // per tensor
        az = {-5};
        bz = {7};
        oc.Input(ZeroPoint(at, {-5})).Input(ZeroPoint(bt, {7}));
      } else if (variant == 2 || variant == 3) {  // per row of a / per column of b
        az.clear();
        bz.clear();
        for (int64_t i = 0; i < M; ++i) az.push_back(at == DType::kUInt8 ? 100 + (int)i : (int)i - 3);
        for (int64_t j = 0; j < N; ++j) bz.push_back(bt == DType::kUInt8 ? 120 - (int)j : 2 - (int)j);
        std::vector<int> av(az.begin(), az.end()), bv(bz.begin(), bz.end());
        if (variant == 2) {
          oc.Input(ZeroPoint(at, av, {M})).Input(ZeroPoint(bt, bv, {N}));
        } else {
          // The N-D forms: a's [.., M, 1] and b's [.., 1, N] (broadcast over batches here).
          oc.Input(ZeroPoint(at, av, {M, 1})).Input(ZeroPoint(bt, bv, {1, N}));
        }
      }
      oc.Label(ShapeToString(c.a) + " x " + ShapeToString(c.b) + " variant " + std::to_string(variant));
      oc.Reference([&](const std::vector<Tensor>&) { return std::vector<Tensor>{RefIntMatMul(a, az, b, bz)}; },
                   Tol::Exact());
      EXPECT_TRUE(CheckOp(oc));
    }
  }
}

TEST(MatMulInteger, OneDimensionalOperandsAndBroadcastBatches) {
  // a [K] x b [K, N] -> [N]; a [2, 1, M, K] x b [3, K, N] -> [2, 3, M, N].
  Tensor a = Make<uint8_t>(DType::kUInt8, {3}, {1, 2, 3});
  Tensor b = Make<int8_t>(DType::kInt8, {3, 2}, {1, -1, 2, -2, 3, -3});
  EXPECT_TRUE(CheckOp(OpCase("MatMulInteger").Inputs({a, b, ZeroPoint(DType::kUInt8, {1})})
                          .Expect(Make<int32_t>(DType::kInt32, {2}, {8, -8}))));
  Tensor a4 = RandomInt(DType::kUInt8, {2, 1, 3, 4}, 5), b3 = RandomInt(DType::kInt8, {3, 4, 2}, 6);
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("MatMulInteger").Inputs({a4, b3}), &out));
  ASSERT_EQ(out[0].shape(), (Shape{2, 3, 3, 2}));
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t r = 0; r < 3; ++r)
        for (int64_t c = 0; c < 2; ++c) {
          int32_t s = 0;
          for (int64_t k = 0; k < 4; ++k) s += IntAt(a4, (i * 3 + r) * 4 + k) * IntAt(b3, (j * 4 + k) * 2 + c);
          EXPECT_EQ(out[0].data<int32_t>()[((i * 3 + j) * 3 + r) * 2 + c], s);
        }
}

TEST(MatMulInteger, Errors) {
  Tensor a = RandomInt(DType::kUInt8, {3, 4}, 1), b = RandomInt(DType::kInt8, {4, 5}, 2);
  auto r = RunOp(OpCase("MatMulInteger").Inputs({a, RandomInt(DType::kInt8, {3, 5}, 3)}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("node 'n'"), std::string::npos) << r.status().message();
  // a's zero point per row with the wrong count; b's of a's type.
  r = RunOp(OpCase("MatMulInteger").Inputs({a, b, ZeroPoint(DType::kUInt8, {1, 2})}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("a_zero_point"), std::string::npos) << r.status().message();
  r = RunOp(OpCase("MatMulInteger").Inputs({a, b}).Omitted().Input(ZeroPoint(DType::kUInt8, {1})));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("b_zero_point"), std::string::npos) << r.status().message();
  auto info = InferOp(OpCase("MatMulInteger"), {Info(DType::kInt32, {3, 4}), Info(DType::kInt8, {4, 5})});
  ASSERT_FALSE(info.ok());
  info = InferOp(OpCase("MatMulInteger"), {Info(DType::kUInt8, {-1, 3, 4}), Info(DType::kInt8, {4, 5})});
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ((*info)[0].dtype, DType::kInt32);
  EXPECT_EQ((*info)[0].shape, (Shape{-1, 3, 5}));
}

}  // namespace
}  // namespace dopt
