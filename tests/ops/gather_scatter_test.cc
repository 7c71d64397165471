// OneHot, NonZero, CumSum, GatherElements, GatherND, ScatterElements, ScatterND.
#include <cstdint>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

Tensor I64(const Shape& s, const std::vector<int64_t>& v) { return Make<int64_t>(DType::kInt64, s, v); }
Tensor F(const Shape& s, const std::vector<float>& v) { return Tensor::FromFloats(s, v); }

TEST(GatherScatter, OneHot) {
  Tensor idx = I64({3}, {0, -1, 5});
  Tensor depth = I64({}, {3});
  Tensor vals = F({2}, {0.f, 2.f});
  EXPECT_TRUE(CheckOp(OpCase("OneHot").Inputs({idx, depth, vals}).Expect(F({3, 3}, {2, 0, 0, 0, 0, 2, 0, 0, 0}))));
  EXPECT_TRUE(CheckOp(OpCase("OneHot").Attr("axis", IntAttr(0)).Inputs({idx, depth, vals})
                          .Expect(F({3, 3}, {2, 0, 0, 0, 0, 0, 0, 2, 0}))));
  auto info = InferOp(OpCase("OneHot"), {Info(DType::kInt64, {3}), Info(DType::kInt64, {}), Info(DType::kFloat32, {2})});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*info)[0].shape, (Shape{3, -1}));
  // Opset 9 had no negative indices: -1 is out of range, an all-off row.
  EXPECT_TRUE(CheckOp(OpCase("OneHot", 9).Inputs({idx, depth, vals}).Expect(F({3, 3}, {2, 0, 0, 0, 0, 0, 0, 0, 0}))));
}

TEST(GatherScatter, NonZero) {
  EXPECT_TRUE(CheckOp(OpCase("NonZero").Input(F({2, 2}, {1, 0, 0, 3})).Expect(I64({2, 2}, {0, 1, 0, 1}))));
  EXPECT_TRUE(CheckOp(OpCase("NonZero").Input(F({2}, {0, 0})).Expect(I64({1, 0}, {}))));
  auto info = InferOp(OpCase("NonZero"), {Info(DType::kFloat32, {4, 5})});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*info)[0].shape, (Shape{2, -1}));
}

TEST(GatherScatter, CumSum) {
  Tensor x = F({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_TRUE(CheckOp(OpCase("CumSum").Inputs({x, I64({}, {1})}).Expect(F({2, 3}, {1, 3, 6, 4, 9, 15}))));
  EXPECT_TRUE(CheckOp(OpCase("CumSum").Attr("exclusive", IntAttr(1)).Attr("reverse", IntAttr(1)).Inputs({x, I64({}, {-1})})
                          .Expect(F({2, 3}, {5, 3, 0, 11, 6, 0}))));
  EXPECT_TRUE(CheckOp(OpCase("CumSum").Inputs({I64({3}, {1, 2, 3}), Make<int32_t>(DType::kInt32, {}, {0})})
                          .Expect(I64({3}, {1, 3, 6}))));
}

TEST(GatherScatter, GatherElementsAndScatterElements) {
  Tensor x = F({2, 2}, {1, 2, 3, 4});
  Tensor idx = I64({2, 2}, {0, 0, 1, -2});
  EXPECT_TRUE(CheckOp(OpCase("GatherElements").Attr("axis", IntAttr(1)).Inputs({x, idx}).Expect(F({2, 2}, {1, 1, 4, 3}))));
  EXPECT_FALSE(RunOp(OpCase("GatherElements").Inputs({x, I64({1, 1}, {2})})).ok());
  EXPECT_FALSE(RunOp(OpCase("GatherElements").Inputs({x, I64({1, 3}, {0, 0, 0})})).ok());
  Tensor upd = F({1, 2}, {10, 20});
  Tensor si = I64({1, 2}, {1, 0});
  EXPECT_TRUE(CheckOp(OpCase("ScatterElements").Attr("axis", IntAttr(1)).Inputs({x, si, upd}).Expect(F({2, 2}, {20, 10, 3, 4}))));
  Tensor dup = I64({1, 2}, {1, 1});
  EXPECT_TRUE(CheckOp(OpCase("ScatterElements").Attr("axis", IntAttr(1)).Attr("reduction", StringAttr("add"))
                          .Inputs({x, dup, upd}).Expect(F({2, 2}, {1, 32, 3, 4}))));
  EXPECT_TRUE(CheckOp(OpCase("ScatterElements").Attr("axis", IntAttr(1)).Attr("reduction", StringAttr("max"))
                          .Inputs({x, dup, upd}).Expect(F({2, 2}, {1, 20, 3, 4}))));
}

TEST(GatherScatter, GatherNDAndScatterND) {
  Tensor x = F({2, 2}, {0, 1, 2, 3});
  EXPECT_TRUE(CheckOp(OpCase("GatherND").Inputs({x, I64({2, 2}, {0, 0, 1, 1})}).Expect(F({2}, {0, 3}))));
  EXPECT_TRUE(CheckOp(OpCase("GatherND").Inputs({x, I64({2, 1}, {1, 0})}).Expect(F({2, 2}, {2, 3, 0, 1}))));
  Tensor x3 = F({2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
  EXPECT_TRUE(CheckOp(OpCase("GatherND").Attr("batch_dims", IntAttr(1)).Inputs({x3, I64({2, 1}, {1, 0})})
                          .Expect(F({2, 2}, {2, 3, 4, 5}))));
  Tensor upd = F({1, 2}, {9, 8});
  EXPECT_TRUE(CheckOp(OpCase("ScatterND").Inputs({x, I64({1, 1}, {-1}), upd}).Expect(F({2, 2}, {0, 1, 9, 8}))));
  EXPECT_TRUE(CheckOp(OpCase("ScatterND").Attr("reduction", StringAttr("mul")).Inputs({x, I64({2, 2}, {1, 1, 1, 1}), F({2}, {2, 3})})
                          .Expect(F({2, 2}, {0, 1, 2, 18}))));
  EXPECT_FALSE(RunOp(OpCase("ScatterND").Inputs({x, I64({1, 1}, {0}), F({3}, {1, 2, 3})})).ok());
  // add on bools is or (no byte other than 0/1 comes out).
  Tensor b = Make<uint8_t>(DType::kBool, {2}, {1, 0});
  EXPECT_TRUE(CheckOp(OpCase("ScatterND").Attr("reduction", StringAttr("add")).Inputs({b, I64({2, 1}, {0, 0}), Make<uint8_t>(DType::kBool, {2}, {1, 1})})
                          .Expect(Make<uint8_t>(DType::kBool, {2}, {1, 0}))));
}

}  // namespace
}  // namespace dopt
